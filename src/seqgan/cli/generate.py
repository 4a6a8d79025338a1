"""`seqgan generate`: samples of a run's generator, as text or token ids."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqgan.cli.common import Commands, check_out, check_seed, writing_out
from seqgan.config import ConfigError


GENERATE_BLOCK = 10 * 2048  # rows sampled per block: a multiple of the sampler's batch, so blocks change no sample


def cmd_generate(args: argparse.Namespace) -> int:
    from seqgan.api import RunLoadError, load
    from seqgan.data import EMPTY_SAMPLE
    from seqgan.sweep import SweepError, check_temperature
    if sum(map(bool, (args.mle, args.mle_best, args.checkpoint))) > 1:
        raise ConfigError("give either --checkpoint or --mle or --mle-best, not two of them")
    if args.num <= 0:
        raise ConfigError(f"-n {args.num}: must be > 0")
    check_seed(args.seed)
    check_out(args.out, [args.run_dir])
    try:
        check_temperature(args.temperature)
    except SweepError as e:
        raise ConfigError(str(e)) from None
    try:
        model = load(args.run_dir, checkpoint=args.checkpoint, mle=args.mle, mle_best=args.mle_best)
    except RunLoadError as e:
        raise ConfigError(str(e)) from None
    source = getattr(model, "source", "")
    if source.startswith("checkpoint"):
        print(f"seqgan: note: {args.run_dir} has not finished; sampling its {source}", file=sys.stderr)
    vocab = getattr(model, "vocab", None)
    eos = model.eos_token

    def lines(rows: list[list[int]]) -> str:
        if vocab is not None and not args.ids:  # an empty sample is a visible line, so line n is sample n
            return "".join((vocab.decode_text(row) or EMPTY_SAMPLE) + "\n" for row in rows)
        rows = [row[: row.index(eos) + 1] if eos is not None and eos in row else row for row in rows]
        return "".join(" ".join(map(str, row)) + "\n" for row in rows)

    import torch
    from tqdm import tqdm

    def write(f: "object") -> None:
        rng = torch.Generator().manual_seed(args.seed)
        with tqdm(total=args.num, desc="generate", unit="seq", disable=args.num < GENERATE_BLOCK, file=sys.stderr,
                  dynamic_ncols=True) as bar:
            for lo in range(0, args.num, GENERATE_BLOCK):
                m = min(GENERATE_BLOCK, args.num - lo)
                f.write(lines(model.sample(m, rng, temperature=args.temperature).tolist()))  # type: ignore[attr-defined]
                bar.update(m)

    if args.out:
        from seqgan.files import write_out
        with writing_out(args.out):
            write_out(args.out, lambda p: _write_with(p, write))
    else:
        write(sys.stdout)
    return 0


def _write_with(path: Path, write: "object") -> None:
    with open(path, "w", encoding="utf-8") as f:
        write(f)  # type: ignore[operator]


def add_parser(sub: Commands) -> None:
    """`seqgan generate`'s options."""
    g = sub.add_parser(
        "generate", help="sample sequences from a trained run's generator",
        description="Sample from the generator of RUN_DIR (its final weights, or its newest checkpoint when the "
                    "run has not finished) and print one sequence per line: text for a run on your data "
                    "(characters joined without spaces for the char tokenizer, SMILES strings for the smiles "
                    "tokenizer), token ids for the oracle task. "
                    "A sample of no tokens (<eos> first) prints as <empty>, so that line n is always sample n.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan generate runs/quick__0__20261128-120000 -n 5 --seed 1\n"
               "  seqgan generate RUN_DIR -n 10000 --temperature 0.8 --out samples.txt\n")
    g.add_argument("run_dir", metavar="RUN_DIR")
    g.add_argument("-n", "--num", type=int, default=10, help="number of sequences (default 10)")
    g.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default 1.0)")
    g.add_argument("--seed", type=int, default=0,
                   help="sampling seed (default 0; the same seed gives the same samples)")
    g.add_argument("--checkpoint", metavar="DIR", help="a checkpoint directory instead of the final weights")
    g.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    g.add_argument("--mle", action="store_true",
                   help="the generator at the end of MLE pre-training (generator_mle.safetensors), the MLE baseline")
    g.add_argument("--mle-best", action="store_true",
                   help="the MLE epoch pretrain.select=best_valid kept (generator_mle_best.safetensors)")
    g.add_argument("--ids", action="store_true", help="print token ids (up to and including <eos>) instead of text")
    g.set_defaults(func=cmd_generate)
