"""The `laptop` preset's exploration: every variant's table and the time-to-quality figure, rerun.

Every variant continues one pre-trained state: a `fast` run (MLE 50 epochs, discriminator
pre-training 20 rounds of 1 epoch on 5,000 + 5,000) on the original's oracle with the
development seed, stopped before the adversarial phase. Each variant is branched from its
checkpoint with `experiments/branch.py` (every model, optimizer and random stream as saved,
the wall time so far carried over) and runs the adversarial phase of its config, with
`train.diagnostics` on. Variants run one after another, never two at once: the wall times are
part of the result. A finished run is skipped and an interrupted one resumed, so the script
can be stopped and run again. Then it prints the table (NLL-oracle after MLE, at the end and
the best on the way, NLL-test at the end, wall time of the whole run) and, with --figure,
draws NLL-oracle against wall-clock seconds (`seqgan plot --x wall`).

    python experiments/variants.py [--seed 100] [--only laptop,fast] [--out runs/variants] \
        [--oracle ../shared/reference/seqgan_oracle.npz | --oracle-seed 7] [--figure docs/time_to_quality.png]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORACLE = REPO.parent / "shared" / "reference" / "seqgan_oracle.npz"
BRANCH = REPO / "experiments" / "branch.py"
ALL_REALS = ["adversarial.discriminator_samples=0"]

#: name -> (branched from: "base" or (variant, checkpoint), preset, overrides, what it tests)
VARIANTS: dict[str, tuple[object, str, list[str], str]] = {
    "laptop": ("base", "laptop", [], "the laptop preset: PG batch 16, 4 g-steps + 1 d-step, 10 iterations"),
    "fast": ("base", "fast", [], "the fast preset: 30 iterations"),
    "fast-40": ("base", "fast", ["adversarial.iterations=40"],
                "fast: 1 g-step (batch 64) + 1 d-step of 1 epoch on 5,000 + 5,000"),
    "mean-baseline": ("base", "fast", ["adversarial.iterations=40", "adversarial.reward_baseline=mean"],
                      "fast with the batch-mean reward baseline"),
    "2g": ("base", "fast", ["adversarial.iterations=40", "adversarial.generator_steps=2"], "fast with 2 g-steps"),
    "b16-2g": ("base", "fast", ["adversarial.iterations=15", "adversarial.batch_size=16",
                                "adversarial.generator_steps=2"], "PG batch 16, 2 g-steps"),
    "b16-4g-30": ("base", "fast", ["adversarial.iterations=30", "adversarial.batch_size=16",
                                   "adversarial.generator_steps=4"], "the laptop schedule run on to 30 iterations"),
    "fast-30": ("base", "fast", ["adversarial.iterations=30"],
                "fast: 1 g-step (batch 64) + 1 d-step of 1 epoch on 5,000 + 5,000, 30 iterations"),
    "b16-4g-40": ("base", "fast", ["adversarial.iterations=40", "adversarial.batch_size=16",
                                   "adversarial.generator_steps=4"], "the laptop schedule run on to 40 iterations"),
    "paper-slice": ("base", "fast", ["adversarial.iterations=8", "adversarial.discriminator_rounds=5",
                                     "adversarial.discriminator_epochs=3", "train.eval_every=2", *ALL_REALS],
                    "the paper's d-steps: 5 rounds x 3 epochs on all 9,984 + 9,984, 1 g-step"),
    "slice-then-3g": (("paper-slice", "ckpt-00000019"), "fast",
                      ["adversarial.iterations=45", "adversarial.generator_steps=3", *ALL_REALS],
                      "after 4 paper-slice iterations: 3 g-steps + 1 d-step of 1 epoch on all reals"),
    "slice-then-3d": (("paper-slice", "ckpt-00000019"), "fast",
                      ["adversarial.iterations=25", "adversarial.discriminator_epochs=3", *ALL_REALS],
                      "after 4 paper-slice iterations: 1 g-step + 1 d-step of 3 epochs on all reals"),
}


def sh(cmd: list[str]) -> None:
    print("variants: " + " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)


def oracle_args(oracle: Path | int) -> list[str]:
    """The original's oracle (a path) or a seeded development oracle (an int)."""
    return ["--set", f"oracle.seed={oracle}"] if isinstance(oracle, int) else ["--oracle", str(oracle)]


#: --set overrides for every run (e.g. train.threads=1 on a shared machine)
EXTRA: list[str] = []


def base(out: Path, seed: int, oracle: Path | int) -> Path:
    run_dir = out / f"base__{seed}"
    if not (run_dir / "summary.json").is_file():
        if (run_dir / "checkpoints").is_dir():
            sh([sys.executable, "-m", "seqgan", "train", "--resume", str(run_dir), "-q"])
        else:
            sh([sys.executable, "-m", "seqgan", "train", "--preset", "fast", *oracle_args(oracle),
                "--seed", str(seed),
                "--set", "adversarial.iterations=0", *[a for o in EXTRA for a in ("--set", o)],
                "--out", str(run_dir), "-q"])
    return run_dir


def run(name: str, out: Path, seed: int, oracle: Path | int) -> Path:
    src, preset, overrides, _ = VARIANTS[name]
    run_dir = out / f"{name}__{seed}"
    if (run_dir / "summary.json").is_file():
        return run_dir
    if (run_dir / "checkpoints").is_dir():
        sh([sys.executable, "-m", "seqgan", "train", "--resume", str(run_dir), "-q"])
        return run_dir
    if src == "base":
        origin, checkpoint = base(out, seed, oracle), []
    else:
        parent, ck = src  # type: ignore[misc]
        origin, checkpoint = run(parent, out, seed, oracle), ["--checkpoint", ck]
    sh([sys.executable, str(BRANCH), "--from", str(origin), *checkpoint, "--out", str(run_dir), "--preset", preset,
        "--set", "train.diagnostics=true", *[a for o in [*overrides, *EXTRA] for a in ("--set", o)], "-q"])
    return run_dir


def row(name: str, run_dir: Path) -> list[str]:
    s = json.loads((run_dir / "summary.json").read_text())
    final = s["evaluations"]["final"]
    curve = [v for _, v in s["nll_oracle"].get("adversarial", [])]
    mle_end = s["nll_oracle"]["mle"][-1][1]
    return [name, f"{mle_end:.3f}", f"{final['nll_oracle']:.3f}", f"{min(curve):.3f}" if curve else "",
            f"{final['nll_test']:.3f}", f"{s['wall_time_s'] / 60:.1f}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--seed", type=int, default=100, help="the development seed (default 100)")
    p.add_argument("--only", help="comma-separated variant names (default: all): " + ", ".join(VARIANTS))
    p.add_argument("--out", default="runs/variants")
    p.add_argument("--oracle", default=str(ORACLE))
    p.add_argument("--oracle-seed", type=int, help="a seeded development oracle instead of --oracle")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an override for every run")
    p.add_argument("--figure", help="write the time-to-quality figure here (seqgan plot --x wall)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    out = Path(args.out)
    EXTRA[:] = args.set
    oracle = args.oracle_seed if args.oracle_seed is not None else Path(args.oracle)
    dirs = {n: run(n, out, args.seed, oracle) for n in names}
    print("| variant | NLL-oracle after MLE | final NLL-oracle | best on the way | final NLL-test | wall time (min) |")
    print("|---|---|---|---|---|---|")
    for n, d in dirs.items():
        print("| " + " | ".join(row(n, d)) + " |")
    if args.figure:
        sh([sys.executable, "-m", "seqgan", "plot", *map(str, dirs.values()), "--x", "wall",
            *[a for n in dirs for a in ("--label", n)], "--out", args.figure])
    return 0


if __name__ == "__main__":
    sys.exit(main())
