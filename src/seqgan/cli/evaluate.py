"""`seqgan evaluate`: the metrics table of a run's generator."""

from __future__ import annotations

import argparse
import sys

from seqgan.cli.common import Commands, check_seed
from seqgan.config import ConfigError


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from seqgan.api import RunLoadError, evaluate_run
    from seqgan.sweep import SweepError
    if sum(map(bool, (args.mle, args.mle_best, args.checkpoint))) > 1:
        raise ConfigError("give either --checkpoint or --mle or --mle-best, not two of them")
    if args.num is not None and args.num < 1:
        raise ConfigError(f"-n {args.num}: must be > 0")
    if args.chem_samples is not None and args.chem_samples < 1:
        raise ConfigError(f"--chem-samples {args.chem_samples}: must be > 0")
    if args.chem is False and (args.scaffold_test or args.train or args.chem_samples):
        raise ConfigError("--scaffold-test, --train and --chem-samples are options of the molecule metrics; "
                          "drop --no-chem")
    check_seed(args.seed)
    notes: list[str] = []
    try:
        table = evaluate_run(args.run_dir, test=args.test, num_samples=args.num, checkpoint=args.checkpoint,
                             seed=args.seed, mle=args.mle, mle_best=args.mle_best, chem=args.chem,
                             scaffold_test=args.scaffold_test, train=args.train, chem_samples=args.chem_samples,
                             notes=notes, quiet=args.quiet, temperature=args.temperature)
    except (RunLoadError, SweepError) as e:  # SweepError: a bad --temperature, refused before any loading
        raise ConfigError(str(e)) from None
    for note in notes:
        print(f"seqgan evaluate: note: {note}", file=sys.stderr)
    if args.json:
        from seqgan.files import json_safe
        print(json.dumps(json_safe(table), indent=1))  # strict JSON: NaN and inf as null
        return 0
    for key, value in table.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<14}{shown}")
    return 0


def add_parser(sub: Commands) -> None:
    """`seqgan evaluate`'s options."""
    e = sub.add_parser(
        "evaluate", help="the metrics table of a trained run",
        description="Score the generator of RUN_DIR (final weights, or --checkpoint). On your data: NLL-test "
                    "(per-token, <eos> counted), BLEU-2..5 of N generated sentences against the whole test file "
                    "(nltk sentence_bleu with method1 smoothing), Self-BLEU-2..5 (each sample against the others), "
                    "NLL-valid when the run has a validation file. On the oracle task: NLL-oracle. --temperature T "
                    "scores the generator sampled from softmax(logits / T), every metric (NLL-test is the tempered "
                    "model's): the whole table of one point of `seqgan sweep`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan evaluate runs/coco__0__20261128-120000\n"
               "  seqgan evaluate RUN_DIR --mle          # the MLE baseline of the same run\n"
               "  seqgan evaluate RUN_DIR --test other_test.txt -n 5000 --json\n"
               "  seqgan evaluate RUN_DIR --mle --temperature 0.8   # the MLE baseline sampled at T = 0.8\n"
               "  seqgan evaluate runs/molecules__0 --scaffold-test ../shared/data/moses/test_scaffolds.smi.gz\n")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--test", metavar="FILE", help="held-out file (default: the run's data.test)")
    e.add_argument("-n", "--num", type=int, default=None,
                   help="generated sentences for BLEU and Self-BLEU (default: the run's eval.bleu_samples; "
                        "oracle task: train.eval_samples)")
    e.add_argument("--seed", type=int, default=0,  # metrics.EVAL_SEED (the parser is built without torch)
                   help="sampling seed (default 0: on your data the draw of the run's own evaluations, so that "
                        "with the default -n the numbers are those of its summary.json)")
    e.add_argument("--checkpoint", metavar="DIR", help="a checkpoint directory instead of the final weights")
    e.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="sample from softmax(logits / T) and score NLL-test with it (default 1.0, the model itself)")
    e.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    e.add_argument("--mle", action="store_true",
                   help="score the generator at the end of MLE pre-training (the MLE baseline) instead")
    e.add_argument("--mle-best", action="store_true",
                   help="score the MLE epoch with the lowest held-out NLL instead (generator_mle_best.safetensors, "
                        "written by runs with pretrain.select=best_valid)")
    chem = e.add_argument_group(
        "molecules", "the MOSES metrics of SMILES samples (Polykovskiy et al. 2020; needs pip install "
                     "'seqgan[chem]'): valid, unique@1k, unique@10k, novelty, intdiv, intdiv2, filters, fcd/snn/frag/"
                     "scaf against --test (_test) and --scaffold-test (_testsf), qed_mean, sa_mean, logp_mean. "
                     "Reference statistics are computed once per file (minutes for 176k molecules) and cached in "
                     "$SEQGAN_CACHE (default ~/.cache/seqgan).")
    onoff = chem.add_mutually_exclusive_group()
    onoff.add_argument("--chem", dest="chem", action="store_true", default=None,
                       help="compute them (default: for runs with the smiles tokenizer)")
    onoff.add_argument("--no-chem", dest="chem", action="store_false", help="leave them out")
    chem.add_argument("--scaffold-test", metavar="FILE", help="the scaffold test set (MOSES's TestSF): *_testsf keys")
    chem.add_argument("--train", metavar="FILE",
                      help="novelty against this file (default: the run's data.train, every line)")
    chem.add_argument("--chem-samples", type=int, metavar="N",
                      help="molecules sampled for them (default: the run's eval.chem_samples, 30,000 as MOSES)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    e.set_defaults(func=cmd_evaluate)
