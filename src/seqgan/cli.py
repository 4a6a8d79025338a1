"""The `seqgan` command line: `seqgan train | generate | evaluate | sweep | compare | reproduce | plot | config`.

`main(argv) -> int` runs in-process (tests call it); errors in the user's input print
one line `seqgan: error: ...` and return 2, before anything is written. torch is imported
only by the commands that need it, so `--help` and `config` answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import sys
import textwrap
from pathlib import Path
from typing import Iterator, Optional

from seqgan import methods as registry
from seqgan.config import ConfigError, describe, dump_yaml, load_config, preset_names

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


@contextlib.contextmanager
def _writing_out(path: str) -> Iterator[None]:
    """Turn any file-system error while writing `--out PATH` (permission, read-only, not a
    directory, disk full) into the one-line error of bad input (exit 2)."""
    try:
        yield
    except OSError as e:
        raise ConfigError(f"--out {path}: cannot write there ({e.strerror}); choose a writable path") from None


def _check_seed(seed: int) -> None:
    from seqgan.config import MAX_SEED
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed {seed}: out of range; seeds range over 0..2**63-1")


def _check_out(out: Optional[str], run_dirs: list[str]) -> None:
    """Refuse, before any work, an --out that would overwrite a file the runs read own."""
    from seqgan.files import run_file_hit
    hit = run_file_hit(out, run_dirs) if out else None
    if hit:
        raise ConfigError(f"--out {out}: that is {hit}, a file of the run; choose a path outside the run's files")


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
    from seqgan.config import RESUME_SAFE_KEYS, diff
    from seqgan.files import RunDirBusy
    from seqgan.models import OracleFileError
    from seqgan.objective import ObjectiveError
    from seqgan.train.run import Interrupted, train

    if args.config and args.preset:
        raise ConfigError("give either --preset or --config, not both")
    if args.resume and args.out:
        raise ConfigError("give either --out (a new run) or --resume (an existing one), not both")
    if args.resume:
        from seqgan.config import absolute_paths, load_run_config
        run_dir = Path(args.resume)
        try:
            saved = load_run_config(run_dir)
        except ConfigError as e:
            raise ConfigError(f"--resume {e}") from None
        base = None if (args.config or args.preset) else saved.model_dump()
        cfg = absolute_paths(load_config(args.config or args.preset, _train_overrides(args), base=base))
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


GENERATE_BLOCK = 10 * 2048  # rows sampled per block: a multiple of the sampler's batch, so blocks change no sample


def cmd_generate(args: argparse.Namespace) -> int:
    from seqgan.api import RunLoadError, load
    from seqgan.data import EMPTY_SAMPLE
    from seqgan.sweep import SweepError, check_temperature
    if sum(map(bool, (args.mle, args.mle_best, args.checkpoint))) > 1:
        raise ConfigError("give either --checkpoint or --mle or --mle-best, not two of them")
    if args.num <= 0:
        raise ConfigError(f"-n {args.num}: must be > 0")
    _check_seed(args.seed)
    _check_out(args.out, [args.run_dir])
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
        with _writing_out(args.out):
            write_out(args.out, lambda p: _write_with(p, write))
    else:
        write(sys.stdout)
    return 0


def _write_with(path: Path, write: "object") -> None:
    with open(path, "w", encoding="utf-8") as f:
        write(f)  # type: ignore[operator]


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from seqgan.api import RunLoadError, evaluate_run
    if sum(map(bool, (args.mle, args.mle_best, args.checkpoint))) > 1:
        raise ConfigError("give either --checkpoint or --mle or --mle-best, not two of them")
    if args.num is not None and args.num < 1:
        raise ConfigError(f"-n {args.num}: must be > 0")
    if args.chem_samples is not None and args.chem_samples < 1:
        raise ConfigError(f"--chem-samples {args.chem_samples}: must be > 0")
    if args.chem is False and (args.scaffold_test or args.train or args.chem_samples):
        raise ConfigError("--scaffold-test, --train and --chem-samples are options of the molecule metrics; "
                          "drop --no-chem")
    _check_seed(args.seed)
    notes: list[str] = []
    try:
        table = evaluate_run(args.run_dir, test=args.test, num_samples=args.num, checkpoint=args.checkpoint,
                             seed=args.seed, mle=args.mle, mle_best=args.mle_best, chem=args.chem,
                             scaffold_test=args.scaffold_test, train=args.train, chem_samples=args.chem_samples,
                             notes=notes, quiet=args.quiet)
    except RunLoadError as e:
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


def cmd_plot(args: argparse.Namespace) -> int:
    from seqgan.plot import PlotError, plot_runs
    _check_out(args.out, args.run_dirs)
    try:
        with _writing_out(args.out or str(Path(args.run_dirs[0]) / "curves.png")):
            out = plot_runs([Path(r) for r in args.run_dirs], Path(args.out) if args.out else None,
                            labels=args.label, x=args.x)
    except PlotError as e:
        raise ConfigError(str(e)) from None
    print(out)
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    import json

    from seqgan.api import RunLoadError
    from seqgan.sweep import SweepError, parse_temperatures, plot_curves, sweep_runs, to_markdown
    if args.samples is not None and args.samples < 2:
        raise ConfigError(f"--samples {args.samples}: must be >= 2")
    _check_seed(args.seed)
    _check_out(args.out, args.run_dirs)
    try:
        temps = parse_temperatures(args.temperatures)
        curves = sweep_runs(args.run_dirs, temps, args.mle, args.samples, args.seed, quiet=args.quiet,
                            chem=args.chem)
    except (SweepError, RunLoadError) as e:
        raise ConfigError(str(e)) from None
    if len({c.task for c in curves}) > 1:
        raise ConfigError("these runs mix the oracle task and runs on your data; sweep them separately")
    data = [{"label": c.label, "run_dir": c.run_dir, "stage": c.stage, "task": c.task, "points": c.points}
            for c in curves]
    if args.out:
        from seqgan.plot import PlotError
        try:
            with _writing_out(args.out):
                plot_curves(curves, Path(args.out))
        except PlotError as e:  # matplotlib missing
            raise ConfigError(str(e)) from None
        print(f"seqgan sweep: figure written to {args.out}", file=sys.stderr)
    from seqgan.files import json_safe
    print(json.dumps(json_safe(data), indent=1) if args.json else to_markdown(curves),
          end="" if not args.json else "\n")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import json

    from seqgan.compare import CompareError, compare, to_json, to_markdown
    _check_out(args.out, args.run_dirs)
    try:
        rows, metrics = compare(args.run_dirs, args.by, args.reference)
    except CompareError as e:
        raise ConfigError(str(e)) from None
    reference = args.reference if any(r.name == args.reference for r in rows) else None
    if args.reference and reference is None:
        print(f"seqgan compare: no group is named {args.reference!r}: no t-tests", file=sys.stderr)
    text = json.dumps(to_json(rows, metrics, reference), indent=1) + "\n" if args.json else \
        to_markdown(rows, metrics, reference)
    if args.out:
        from seqgan.files import write_out
        with _writing_out(args.out):
            write_out(args.out, lambda p: p.write_text(text, encoding="utf-8"))
    print(text, end="")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from seqgan.compare import CompareError
    from seqgan.files import RunDirBusy
    from seqgan.models import OracleFileError
    from seqgan.train.run import Interrupted
    if args.seeds < 1:
        raise ConfigError(f"--seeds {args.seeds}: must be >= 1")
    if args.oracle and not Path(args.oracle).is_file():
        raise ConfigError(f"--oracle {args.oracle}: no such file")
    bench = args.table == "bench"
    scales = ("cpu", "smoke") if bench else ("quick", "fast", "paper")
    scale = args.scale or scales[0]
    if scale not in scales:
        raise ConfigError(f"--scale {scale}: reproduce {args.table} has the scales {', '.join(scales)}")
    if not bench and (args.task or args.methods):
        raise ConfigError("--task and --methods are options of `reproduce bench`")
    if args.task == "oracle40" and args.oracle:
        raise ConfigError("--oracle is the length-20 oracle; --task oracle40 uses its own seeded 64/64 oracle")
    out = Path(args.out or f"runs/{args.table}")
    extra = (args.set or []) + ([f"device={args.device}"] if args.device else [])
    try:
        if bench:
            from seqgan import bench as b
            rows = b.row_names(args.methods)
            dirs = b.run_rows(out, rows, args.seeds, args.task or "oracle", scale, args.oracle, extra, args.quiet)
            md = b.report(out, dirs, args.task or "oracle", args.oracle, quiet=args.quiet)
            files = ["bench.md", "bench.json", "bench_curves.png", "bench_sweep.png"]
        else:
            from seqgan.reproduce import run_rows, table1
            _, md = table1(out, run_rows(out, scale, args.seeds, args.oracle, extra, args.quiet))
            files = ["table1.md", "table1.json", "table1.png"]
    except Interrupted as e:
        print(f"seqgan reproduce: {e}; run the same command again to continue", file=sys.stderr)
        return 128 + e.signum
    except (OracleFileError, RunDirBusy, CompareError) as e:
        raise ConfigError(str(e)) from None
    print(md, end="")
    print("seqgan reproduce: " + ", ".join(str(out / f) for f in files), file=sys.stderr)
    return 0


def config_table() -> str:
    """Every key as a markdown table (the docs site's configuration reference is made from it)."""
    def cell(v: object) -> str:
        return "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | {cell(default)} | {doc.replace('|', '/')} |" for key, _, default, doc in describe()]
    return "\n".join(rows) + "\n"


def cmd_config(args: argparse.Namespace) -> int:
    if args.markdown:
        print(config_table(), end="")
        return 0
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

    e = sub.add_parser(
        "evaluate", help="the metrics table of a trained run",
        description="Score the generator of RUN_DIR (final weights, or --checkpoint). On your data: NLL-test "
                    "(per-token, <eos> counted), BLEU-2..5 of N generated sentences against the whole test file "
                    "(nltk sentence_bleu with method1 smoothing), Self-BLEU-2..5 (each sample against the others), "
                    "NLL-valid when the run has a validation file. On the oracle task: NLL-oracle.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan evaluate runs/coco__0__20261128-120000\n"
               "  seqgan evaluate RUN_DIR --mle          # the MLE baseline of the same run\n"
               "  seqgan evaluate RUN_DIR --test other_test.txt -n 5000 --json\n"
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

    sw = sub.add_parser(
        "sweep", help="quality against diversity over softmax temperatures (MLE baseline included with --mle)",
        description="For each run's generator (with --mle also its MLE baseline) and each temperature T "
                    "(logits / T): on the oracle task NLL-oracle of samples drawn at T (quality) and the tempered "
                    "model's NLL-test of the held-out oracle sequences (diversity); on your data BLEU-4/5 against "
                    "the test file (quality), Self-BLEU-4/5 and NLL-test (diversity); on molecules (the smiles "
                    "tokenizer) also validity and FCD to the test file (few samples bias FCD upwards: compare "
                    "models at equal --samples). Prints a markdown table "
                    "(or --json); --out draws the curves. A few seconds per model and temperature on 2 CPU "
                    "cores; not resumable. Caccia et al., ICLR 2020.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan sweep runs/laptop__0 --mle --out sweep.png\n"
               "  seqgan sweep runs/coco --mle --temperatures 0.7,0.8,0.9,1.0,1.1 --samples 2000 --json\n")
    sw.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    sw.add_argument("--mle", action="store_true",
                    help="also sweep each run's MLE baseline (generator_mle; generator_mle_best for a run made with "
                         "pretrain.select=best_valid)")
    sw.add_argument("--temperatures", default="0.5,0.6,0.7,0.8,0.9,1.0,1.1,1.2,1.3,1.4,1.5",
                    help="comma-separated, each finite and > 0 (default 0.5 to 1.5 by 0.1)")
    sw.add_argument("--samples", type=int, help="samples per temperature (default: the run's train.eval_samples "
                                                 "on the oracle task, eval.bleu_samples on your data)")
    sw.add_argument("--seed", type=int, default=0, help="sampling seed, the same at every T (default 0, as evaluate)")
    sw.add_argument("--out", metavar="FILE.png", help="draw the curves (needs matplotlib)")
    sw.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    onoff = sw.add_mutually_exclusive_group()
    onoff.add_argument("--chem", dest="chem", action="store_true", default=None,
                       help="molecules: also the validity of the samples and their FCD to the test file (needs pip "
                            "install 'seqgan[chem]'; default: for runs with the smiles tokenizer)")
    onoff.add_argument("--no-chem", dest="chem", action="store_false", help="leave validity and FCD out")
    sw.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)

    cp = sub.add_parser(
        "compare", help="mean ± sd over seeds per method and Welch's t-test against a reference (Table 1 layout)",
        description="Group finished runs (by method, by default) and report each group's final NLL-oracle and "
                    "NLL-test (runs on your data: NLL-test, BLEU-2..5, Self-BLEU-4) as mean ± sd with n, and the "
                    "two-sided Welch t-test p-value (scipy.stats.ttest_ind, equal_var=False) of each group against "
                    "the reference group.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  seqgan compare runs/table1/*__* --reference seqgan --out table.md\n")
    cp.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    cp.add_argument("--by", choices=["method", "parent", "name"], default="method",
                    help="group runs by their method (default), their parent directory, or each on its own")
    cp.add_argument("--reference", default="seqgan", help="the group the others are tested against (default seqgan)")
    cp.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    cp.add_argument("--out", metavar="FILE", help="also write the table (or JSON) to FILE")
    cp.set_defaults(func=cmd_compare)

    from seqgan.reproduce import scale_times_text
    rp = sub.add_parser(
        "reproduce", help="the paper's Table 1 (table1), or every method and control over seeds (bench)",
        description="table1: train the rows of the paper's Table 1 for seeds 0..N-1 on the oracle task: Scheduled "
                    "Sampling, PG-BLEU and SeqGAN, whose runs also give the Random row (the untrained generator) and "
                    "the MLE row (the end of its pre-training); writes table1.md, table1.json and table1.png. "
                    + scale_times_text() + "\n\nbench: every registered method (" + ", ".join(
                        m for m in registry.METHODS if m != "mle") + "), the MLE baseline and the reward controls "
                    "(SeqGAN with a constant or random reward) for seeds 0..N-1, on the oracle at length 20 "
                    "(--task oracle) or a seeded 64/64 oracle at length 40 (--task oracle40); writes bench.md "
                    "(NLL-oracle and NLL-test at the last evaluation, mean ± sd, Welch's p against MLE, published "
                    "numbers), bench.json, bench_curves.png and bench_sweep.png (every final generator over "
                    "temperatures). Scale cpu: the `laptop` schedule, each run within 30 minutes on 2 cores at "
                    "length 20 (RelGAN's rows, at beta_max 100 and 1000: the `relgan-cpu` preset); smoke: seconds, "
                    "checks the pipeline.\n\nFinished runs are skipped, interrupted "
                    "ones resumed (stop with Ctrl-C, run the same command again); a run made with another config "
                    "is refused.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  seqgan reproduce table1 --scale fast --seeds 3 "
               "--oracle ../shared/reference/seqgan_oracle.npz --out runs/table1\n"
               "  seqgan reproduce bench --seeds 3 --oracle ../shared/reference/seqgan_oracle.npz --out runs/bench\n"
               "  seqgan reproduce bench --task oracle40 --methods seqgan maligan --out runs/bench40\n")
    rp.add_argument("table", choices=["table1", "bench"])
    rp.add_argument("--scale", choices=["quick", "fast", "paper", "cpu", "smoke"],
                    help="table1: quick (default), fast, paper (see seqgan/reproduce.py); bench: cpu (default), smoke")
    rp.add_argument("--task", choices=["oracle", "oracle40"], help="bench: length 20 (default) or 40")
    rp.add_argument("--methods", nargs="+", metavar="ROW",
                    help="bench: the rows to train (default all): mle, the registered methods, relgan_1000 "
                         "(RelGAN at beta_max 1000), relgan_mle (RelGAN's own MLE stage), control_constant, "
                         "control_random")
    rp.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    rp.add_argument("--oracle", metavar="FILE.npz", help="the original's oracle (default: the built-in seeded one)")
    rp.add_argument("--out", metavar="DIR", help="where the runs and tables go (default runs/table1 or runs/bench)")
    rp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key in every row's config")
    rp.add_argument("--device", choices=["auto", "cpu", "cuda"], help="= --set device=...")
    rp.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    rp.set_defaults(func=cmd_reproduce)

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
    pl.add_argument("--x", choices=["step", "wall"], default="step",
                    help="x axis: step (MLE epochs, then adversarial iterations; default) or wall (seconds of wall "
                         "time since the run started: time to quality)")
    pl.set_defaults(func=cmd_plot)

    c = sub.add_parser("config", help="print a resolved config, or --list every key",
                       description="Print the resolved config of a preset or file with overrides applied, "
                                   "or list every key with its type, default and meaning.")
    _config_args(c)
    c.add_argument("--list", action="store_true", help="list every key with its default and meaning")
    c.add_argument("--markdown", action="store_true",
                   help="the same as a markdown table (the docs' configuration reference)")
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
