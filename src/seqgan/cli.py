"""The `seqgan` command line: `seqgan train | generate | evaluate | plot | config`.

`main(argv) -> int` runs in-process (tests call it); errors in the user's input print
one line `seqgan: error: ...` and return 2, before anything is written.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import textwrap
from pathlib import Path
from typing import Optional

import torch

from seqgan.config import Config, ConfigError, describe, dump_yaml, load_config, preset_names

TRAIN_EPILOG = """\
examples:
  seqgan train                                   # the 'quick' preset on the built-in seeded oracle
  seqgan train --preset coco --data image_coco.txt --test image_coco_test.txt   # your sequences (word tokens)
  seqgan train --data poems.txt --test poems_test.txt --tokenizer char --set data.max_len=24
  seqgan train --preset paper --oracle ../shared/reference/seqgan_oracle.npz
  seqgan train --preset paper --set adversarial.iterations=0 --set pretrain.discriminator_rounds=0
  seqgan train --config my.yaml --set adversarial.rollout_num=8 --out runs/rollout8
  seqgan train --resume runs/quick__0__20261128-120000   # continue a stopped run
  seqgan train --resume RUN_DIR --set adversarial.iterations=400  # extend a finished run
  seqgan config --list                           # every config key with its default and meaning
  torchrun --nproc_per_node=2 -m seqgan train --preset paper   # data-parallel over 2 processes (GPUs or CPUs)
"""


def _default_out(preset: str, seed: int) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("runs") / f"{preset}__{seed}__{stamp}"
    n = 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{preset}__{seed}__{stamp}-{n}"
    return out


def _train_overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.set or [])
    if args.oracle:
        overrides.append(f"oracle.path={args.oracle}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.device:
        overrides.append(f"device={args.device}")
    if args.data:
        overrides += ["task=data", f"data.train={args.data}"]
    for flag, key in (("valid", "data.valid"), ("test", "data.test"), ("tokenizer", "data.tokenizer")):
        if getattr(args, flag):
            overrides.append(f"{key}={getattr(args, flag)}")
    return overrides


def _resolved_like(cfg: Config, saved: Config) -> Config:
    """`cfg` resolved with a saved run's data-derived sizes, to compare it with the run's config."""
    from seqgan.config import resolve
    if cfg.task == "data" and saved.task == "data":
        return resolve(cfg, saved.generator.vocab_size, cfg.data.max_len or saved.data.max_len)
    return resolve(cfg) if cfg.task == "oracle" else cfg


def cmd_train(args: argparse.Namespace) -> int:
    from seqgan import checkpoint as ckpt
    from seqgan import distributed
    from seqgan.config import RESUME_SAFE_KEYS, diff
    from seqgan.files import RunDirBusy
    from seqgan.models import OracleFileError
    from seqgan.train.run import Interrupted, train

    if args.config and args.preset:
        raise ConfigError("give either --preset or --config, not both")
    if args.resume and args.out:
        raise ConfigError("give either --out (a new run) or --resume (an existing one), not both")
    if args.resume:
        run_dir = Path(args.resume)
        saved_path = run_dir / "config.yaml"
        if not saved_path.is_file():
            raise ConfigError(f"--resume {run_dir}: no config.yaml there; is it a seqgan run directory?")
        saved = load_config(str(saved_path))
        cfg = load_config(args.config or args.preset or str(saved_path), _train_overrides(args))
        cfg = _resolved_like(cfg, saved)  # with the run's data-derived sizes, as its config.yaml has them
        changed = {k: v for k, v in diff(saved, cfg).items() if k not in RESUME_SAFE_KEYS}
        if changed:
            what = ", ".join(f"{k} ({a!r} -> {b!r})" for k, (a, b) in sorted(changed.items()))
            raise ConfigError(f"--resume {run_dir}: the config differs from the run's in {what}; only "
                              f"{', '.join(sorted(RESUME_SAFE_KEYS))} may change when resuming")
    else:
        source = args.config or args.preset or "quick"
        cfg = load_config(source, _train_overrides(args))
    if args.tokenizer and cfg.task != "data":
        raise ConfigError(f"--tokenizer {args.tokenizer} applies to your data: give the training file with --data FILE")
    if cfg.oracle.path and not Path(cfg.oracle.path).is_file():
        raise ConfigError(f"oracle.path={cfg.oracle.path}: no such file")

    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA GPU is visible to torch; use --set device=cpu or auto")
    # under torchrun: join the process group; rank 0 decides the run directory and the checkpoint
    try:
        world, device = distributed.init(cfg.device)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    clean = False
    try:
        resume = None
        if args.resume:
            out = Path(args.resume)
            warn = (lambda m: print(f"seqgan: warning: {m}", file=sys.stderr)) if world.is_main else None
            latest = ckpt.latest_valid(out, warn=warn) if world.is_main else None
            chosen = distributed.broadcast_object(str(latest.path) if latest else None, world)
            if chosen is None:
                raise ConfigError(f"--resume {out}: no valid checkpoint in {ckpt.checkpoint_dir(out)}")
            resume = latest if world.is_main else ckpt.load(Path(chosen))
        else:
            name = Path(args.config).stem if args.config else (args.preset or "quick")
            out = Path(distributed.broadcast_object(str(args.out or _default_out(name, cfg.seed)), world))
            if out.exists() and not out.is_dir():
                raise ConfigError(f"--out {out}: exists and is not a directory")
            if out.exists() and any(out.iterdir()):
                raise ConfigError(f"--out {out}: directory exists and is not empty; choose a new one "
                                  f"(or continue it with --resume {out})")
        distributed.barrier(world)  # every rank has checked before rank 0 writes anything
        if args.print_config and world.is_main:
            print(dump_yaml(cfg), end="")
        try:
            train(cfg, out, quiet=args.quiet, resume=resume, world=world, device=device)
        except (OracleFileError, RunDirBusy) as e:
            raise ConfigError(str(e)) from None
        except Interrupted as e:
            if world.is_main:
                where = f"; checkpoint {e.path}" if e.path else ""
                print(f"seqgan: {e}{where}; continue with: seqgan train --resume {out}", file=sys.stderr)
            return 128 + e.signum
        except RuntimeError as e:
            if not (world.distributed and _is_collective_failure(e)):
                raise
            # a collective failed: another rank died or the network broke; torchrun ends the job
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f"seqgan: error: rank {world.rank}: lost another torchrun process ({first}); the newest "
                  f"checkpoint in {out}/checkpoints is intact: rerun the same torchrun command with "
                  f"'seqgan train --resume {out}'", file=sys.stderr)
            return 1
        clean = True
    finally:
        distributed.shutdown(clean)
    return 0


def _is_collective_failure(e: BaseException) -> bool:
    """True for the errors a collective raises when a peer process is gone."""
    dist_error = getattr(torch.distributed, "DistError", ())
    text = str(e)
    return isinstance(e, dist_error) or any(
        s in text for s in ("Connection closed by peer", "Connection reset by peer", "Gloo", "gloo", "NCCL", "Broken pipe"))


def cmd_generate(args: argparse.Namespace) -> int:
    from seqgan.api import RunLoadError, load
    if args.mle and args.checkpoint:
        raise ConfigError("give either --checkpoint or --mle, not both")
    if args.num <= 0:
        raise ConfigError(f"-n {args.num}: must be > 0")
    if args.temperature <= 0:
        raise ConfigError(f"--temperature {args.temperature}: must be > 0")
    try:
        model = load(args.run_dir, checkpoint=args.checkpoint, mle=args.mle)
    except RunLoadError as e:
        raise ConfigError(str(e)) from None
    seqs = model.sample(args.num, temperature=args.temperature, seed=args.seed)  # (n, T)
    vocab = getattr(model, "vocab", None)
    if vocab is not None and not args.ids:
        text = "".join(vocab.decode_text(row) + "\n" for row in seqs.tolist())
    else:
        eos = model.eos_token
        rows = [row[: row.index(eos) + 1] if eos is not None and eos in row else row for row in seqs.tolist()]
        text = "".join(" ".join(map(str, row)) + "\n" for row in rows)
    if args.out:
        from seqgan.files import atomic_write_text
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from seqgan.api import RunLoadError, evaluate_run
    if args.mle and args.checkpoint:
        raise ConfigError("give either --checkpoint or --mle, not both")
    if args.num is not None and args.num < 1:
        raise ConfigError(f"-n {args.num}: must be > 0")
    try:
        table = evaluate_run(args.run_dir, test=args.test, num_samples=args.num, checkpoint=args.checkpoint,
                             seed=args.seed, mle=args.mle)
    except RunLoadError as e:
        raise ConfigError(str(e)) from None
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    for key, value in table.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"{key:<14}{shown}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from seqgan.plot import PlotError, plot_runs
    try:
        out = plot_runs([Path(r) for r in args.run_dirs], Path(args.out) if args.out else None, labels=args.label)
    except PlotError as e:
        raise ConfigError(str(e)) from None
    print(out)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    if args.list:
        for key, tp, default, doc in describe():
            print(f"{key} = {default!r}  ({tp})")
            if doc:
                print(textwrap.fill(doc, 88, initial_indent="    ", subsequent_indent="    "))
        return 0
    cfg = load_config(args.config or args.preset or "quick", args.set or [])
    print(dump_yaml(cfg), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqgan",
        description="SeqGAN (Yu et al., AAAI-17): an LSTM generator pre-trained by maximum likelihood, then "
                    "trained by policy gradient against a CNN discriminator with Monte Carlo rollout rewards.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'seqgan <command> --help' for each command's options.")
    sub = p.add_subparsers(dest="command", metavar="<command>")

    t = sub.add_parser(
        "train", help="train SeqGAN on the oracle task or on your sequences (MLE, D pre-training, adversarial)",
        description="Run a whole SeqGAN experiment and write a run directory: config.yaml, metrics.jsonl, "
                    "experiment-log.txt (the original's format), real_data.txt (oracle task) or vocab.json "
                    "(--data), generator/discriminator weights (safetensors), generator_samples.txt, summary.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRAIN_EPILOG)
    _config_args(t)
    t.add_argument("--oracle", metavar="FILE.npz", help="the original's oracle parameters (= oracle.path)")
    t.add_argument("--data", metavar="TRAIN.txt",
                   help="train on your sequences, one per line, UTF-8 (= --set task=data --set data.train=...)")
    t.add_argument("--valid", metavar="FILE", help="validation sequences: NLL-valid during training (= data.valid)")
    t.add_argument("--test", metavar="FILE",
                   help="held-out sequences: NLL-test and the BLEU references (= data.test)")
    t.add_argument("--tokenizer", choices=["word", "char", "space"],
                   help="word: words and punctuation, lower-cased; char: one token per character (Chinese); "
                        "space: pre-tokenised, split on whitespace (= data.tokenizer)")
    t.add_argument("--seed", type=int, help="= --set seed=N")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], help="= --set device=...")
    t.add_argument("--out", metavar="DIR", help="run directory (default runs/<preset>__<seed>__<date-time>)")
    t.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a stopped run from its newest valid checkpoint (the config must match, "
                        "except keys such as adversarial.iterations that extend the run)")
    t.add_argument("--print-config", action="store_true", help="print the resolved config first")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    t.set_defaults(func=cmd_train)

    g = sub.add_parser(
        "generate", help="sample sequences from a trained run's generator",
        description="Sample from the generator of RUN_DIR (its final weights, or its newest checkpoint when the "
                    "run has not finished) and print one sequence per line: text for a run on your data "
                    "(characters joined without spaces for the char tokenizer), token ids for the oracle task.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan generate runs/quick__0__20261128-120000 -n 5 --seed 1\n"
               "  seqgan generate RUN_DIR -n 10000 --temperature 0.8 --out samples.txt\n")
    g.add_argument("run_dir", metavar="RUN_DIR")
    g.add_argument("-n", "--num", type=int, default=10, help="number of sequences (default 10)")
    g.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (default 1.0)")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default 0; the same seed gives the same samples)")
    g.add_argument("--checkpoint", metavar="DIR", help="a checkpoint directory instead of the final weights")
    g.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    g.add_argument("--mle", action="store_true",
                   help="the generator at the end of MLE pre-training (generator_mle.safetensors), the MLE baseline")
    g.add_argument("--ids", action="store_true", help="print token ids (up to and including <eos>) instead of text")
    g.set_defaults(func=cmd_generate)

    e = sub.add_parser(
        "evaluate", help="the metrics table of a trained run",
        description="Score the generator of RUN_DIR (final weights, or --checkpoint). On your data: NLL-test "
                    "(per-token, <eos> counted), BLEU-2..5 of N generated sentences against the whole test file "
                    "(nltk sentence_bleu with method1 smoothing), Self-BLEU-2..5 (each sample against the others), "
                    "NLL-valid when the run has a validation file. On the oracle task: NLL-oracle.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan evaluate runs/coco__0__20261128-120000\n"
               "  seqgan evaluate RUN_DIR --mle          # the MLE baseline of the same run\n"
               "  seqgan evaluate RUN_DIR --test other_test.txt -n 5000 --json\n")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--test", metavar="FILE", help="held-out file (default: the run's data.test)")
    e.add_argument("-n", "--num", type=int, default=None,
                   help="generated sentences for BLEU and Self-BLEU (default: the run's eval.bleu_samples; "
                        "oracle task: train.eval_samples)")
    e.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    e.add_argument("--checkpoint", metavar="DIR", help="a checkpoint directory instead of the final weights")
    e.add_argument("--json", action="store_true", help="print a JSON object instead of a table")
    e.add_argument("--mle", action="store_true",
                   help="score the generator at the end of MLE pre-training (the MLE baseline) instead")
    e.set_defaults(func=cmd_evaluate)

    pl = sub.add_parser(
        "plot", help="learning curves of one or more runs as a PNG",
        description="Plot NLL-oracle (MLE and adversarial phases, the boundary marked), discriminator loss and "
                    "accuracy, and the mean reward of one or more runs, overlaid with a legend. Needs matplotlib "
                    "(pip install 'seqgan[plot]').",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  seqgan plot runs/mle_only runs/seqgan --label MLE --label SeqGAN --out curves.png\n")
    pl.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    pl.add_argument("--out", metavar="FILE.png", help="output file (default: curves.png in the first run directory)")
    pl.add_argument("--label", action="append", help="legend label per run, in order (default: directory names)")
    pl.set_defaults(func=cmd_plot)

    c = sub.add_parser("config", help="print a resolved config, or --list every key",
                       description="Print the resolved config of a preset or file with overrides applied, "
                                   "or list every key with its type, default and meaning.")
    _config_args(c)
    c.add_argument("--list", action="store_true", help="list every key with its default and meaning")
    c.set_defaults(func=cmd_config)
    return p


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=preset_names(), help="a preset shipped with the package (default: quick)")
    p.add_argument("--config", metavar="FILE.yaml", help="a YAML config file (keys as in 'seqgan config --list')")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one key, e.g. --set adversarial.rollout_num=8 (repeatable)")


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except ConfigError as e:
        print(f"seqgan: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqgan: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())
