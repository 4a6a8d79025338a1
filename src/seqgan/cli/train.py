"""`seqgan train`: a whole experiment in a run directory, or `--resume` one."""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from pathlib import Path

from seqgan import methods as registry
from seqgan.cli.common import Commands, config_args
from seqgan.config import ConfigError, dump_yaml, load_config


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
    if args.method:
        overrides.append(f"method={args.method}")
    if args.device:
        overrides.append(f"device={args.device}")
    if args.data:
        overrides += ["task=data", f"data.train={args.data}"]
    for flag, key in (("valid", "data.valid"), ("test", "data.test"), ("tokenizer", "data.tokenizer")):
        if getattr(args, flag):
            overrides.append(f"{key}={getattr(args, flag)}")
    return overrides


def cmd_train(args: argparse.Namespace) -> int:
    from seqgan import checkpoint as ckpt
    from seqgan import distributed
    from seqgan.files import RunDirBusy
    from seqgan.models import OracleFileError
    from seqgan.objective import ObjectiveError
    from seqgan.train.run import Interrupted, resume_config, train

    if args.config and args.preset:
        raise ConfigError("give either --preset or --config, not both")
    if args.resume and args.out:
        raise ConfigError("give either --out (a new run) or --resume (an existing one), not both")
    if args.resume:  # the run's own config, refused when it differs in what the run has computed
        cfg = resume_config(Path(args.resume), args.config or args.preset, _train_overrides(args))
    else:
        source = args.config or args.preset or "quick"
        cfg = load_config(source, _train_overrides(args))
    if args.tokenizer and cfg.task != "data":
        raise ConfigError(f"--tokenizer {args.tokenizer} applies to your data: give the training file with --data FILE")
    if cfg.oracle.path and not Path(cfg.oracle.path).is_file():
        raise ConfigError(f"oracle.path={cfg.oracle.path}: no such file")

    # device=cuda without a GPU is refused here; under torchrun: join the process group; rank 0 decides the
    # run directory and the checkpoint
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
        except ObjectiveError as e:  # your function failed mid-run: the checkpoints are untouched
            raise ConfigError(f"{e}; the run's checkpoints are as they were: fix the function, then "
                              f"seqgan train --resume {out}") from None
        except OSError as e:  # unwritable, read-only, not a directory, disk full: file-system errors name a file
            import errno
            where = e.filename or out
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ConfigError(f"cannot write {where} ({e.strerror}): free some space, then continue with: "
                                  f"seqgan train --resume {out} (the checkpoints written before are intact)") from None
            raise ConfigError(f"cannot write {where} ({e.strerror}); choose a writable --out directory") from None
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
        if world.is_main and not args.quiet:
            print(_next_steps(out))
    finally:
        distributed.shutdown(clean)
    return 0


def _next_steps(run_dir: Path) -> str:
    """The closing lines of `seqgan train`: the run directory, absolute, and what to run next."""
    import shlex
    run = shlex.quote(str(run_dir.resolve()))
    return (f"seqgan: run saved in {run}\n"
            f"next:  seqgan generate {run} -n 5      # samples\n"
            f"       seqgan evaluate {run}           # metrics of the final generator\n"
            f"       seqgan sweep {run} --mle        # temperature sweep, MLE baseline vs final")


def _is_collective_failure(e: BaseException) -> bool:
    """True for the errors a collective raises when a peer process is gone."""
    import torch
    dist_error = getattr(torch.distributed, "DistError", ())
    text = str(e)
    return isinstance(e, dist_error) or any(
        s in text
        for s in ("Connection closed by peer", "Connection reset by peer", "Gloo", "gloo", "NCCL", "Broken pipe")
    )


def add_parser(sub: Commands) -> None:
    """`seqgan train`'s options."""
    t = sub.add_parser(
        "train", help="train SeqGAN on the oracle task or on your sequences (MLE, D pre-training, adversarial)",
        description="Run a whole SeqGAN experiment and write a run directory: config.yaml, metrics.jsonl, "
                    "experiment-log.txt (the original's format), real_data.txt (oracle task) or vocab.json "
                    "(--data), generator/discriminator weights (safetensors), generator_samples.txt, summary.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TRAIN_EPILOG)
    config_args(t)
    t.add_argument("--oracle", metavar="FILE.npz", help="the original's oracle parameters (= oracle.path)")
    t.add_argument("--data", metavar="TRAIN.txt",
                   help="train on your sequences, one per line, UTF-8, plain or .gz "
                        "(= --set task=data --set data.train=...)")
    t.add_argument("--valid", metavar="FILE", help="validation sequences: NLL-valid during training (= data.valid)")
    t.add_argument("--test", metavar="FILE",
                   help="held-out sequences: NLL-test and the BLEU references (= data.test)")
    t.add_argument("--tokenizer", choices=["word", "char", "space", "smiles"],
                   help="word: words and punctuation, lower-cased; char: one token per character (Chinese); "
                        "space: pre-tokenised, split on whitespace; smiles: molecules, bracket atoms, Br, Cl and "
                        "%%nn ring bonds as single tokens (= data.tokenizer)")
    t.add_argument("--method", choices=registry.method_names(), metavar="METHOD",
                   help="the algorithm (= --set method=...): " + "; ".join(
                       f"{m.name}: {m.summary}" for m in registry.METHODS.values()))
    t.add_argument("--seed", type=int, help="= --set seed=N")
    t.add_argument("--device", choices=["auto", "cpu", "cuda"], help="= --set device=...")
    t.add_argument("--out", metavar="DIR", help="run directory (default runs/<preset>__<seed>__<date-time>)")
    t.add_argument("--resume", metavar="RUN_DIR",
                   help="continue a stopped run from its newest valid checkpoint (the config must match, "
                        "except keys such as adversarial.iterations that extend the run)")
    t.add_argument("--print-config", action="store_true", help="print the resolved config first")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars or messages")
    t.set_defaults(func=cmd_train)
