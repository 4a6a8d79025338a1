"""The `laptop` preset's comparison table and time-to-quality figure, rerun from scratch.

Every variant is a whole `seqgan train` run (MLE, discriminator pre-training, adversarial) on
the original's oracle with one seed, run one after another (never two at once: the wall times
are the point), then tabulated: final NLL-oracle, NLL-test, the best NLL-oracle on the way, and
the wall time, and drawn with `seqgan plot --x wall` (NLL-oracle against seconds). A finished
run is skipped and an interrupted one resumed, so the script can be stopped and run again.

    python experiments/variants.py [--seed 100] [--only laptop,fast] [--out runs/variants] \
        [--oracle ../shared/reference/seqgan_oracle.npz] [--figure docs/time_to_quality.png]

The variants are the presets and the named departures explored for the README (Results:
"SeqGAN's number on a laptop"); each is a preset plus `--set` overrides.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORACLE = REPO.parent / "shared" / "reference" / "seqgan_oracle.npz"

#: name -> (preset, overrides, what it tests)
VARIANTS: dict[str, tuple[str, list[str], str]] = {
    "laptop": ("laptop", [], "the laptop preset"),
    "fast": ("fast", [], "the fast preset: 1 g-step + 1 d-step of 1 epoch on 5,000 + 5,000 per iteration"),
    "fast-2g": ("fast", ["adversarial.generator_steps=2"], "fast with 2 g-steps per iteration"),
    "fast-mean-baseline": ("fast", ["adversarial.reward_baseline=mean"],
                           "fast with the mean reward baseline (the rewards' constant removed)"),
}


def run(name: str, out: Path, seed: int, oracle: Path) -> Path:
    preset, overrides, _ = VARIANTS[name]
    run_dir = out / f"{name}__{seed}"
    if (run_dir / "summary.json").is_file():
        return run_dir
    if (run_dir / "checkpoints").is_dir():
        cmd = [sys.executable, "-m", "seqgan", "train", "--resume", str(run_dir), "-q"]
    else:
        cmd = [sys.executable, "-m", "seqgan", "train", "--preset", preset, "--oracle", str(oracle), "--seed", str(seed),
               "--out", str(run_dir), "-q"] + [a for o in overrides for a in ("--set", o)]
    print(f"variants: {name} (seed {seed}) -> {run_dir}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    return run_dir


def row(name: str, run_dir: Path) -> list[str]:
    s = json.loads((run_dir / "summary.json").read_text())
    final = s["evaluations"]["final"]
    curve = [v for phase in ("adversarial",) for _, v in s["nll_oracle"].get(phase, [])]
    mle_end = s["nll_oracle"]["mle"][-1][1]
    return [name, f"{mle_end:.3f}", f"{final['nll_oracle']:.3f}", f"{min(curve):.3f}" if curve else "",
            f"{final['nll_test']:.3f}", f"{s['wall_time_s'] / 60:.1f}"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--only", help="comma-separated variant names (default: all)")
    p.add_argument("--out", default="runs/variants")
    p.add_argument("--oracle", default=str(ORACLE))
    p.add_argument("--figure", help="write the time-to-quality figure here (seqgan plot --x wall)")
    args = p.parse_args(argv)
    names = args.only.split(",") if args.only else list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    out = Path(args.out)
    dirs = {n: run(n, out, args.seed, Path(args.oracle)) for n in names}
    print("| variant | NLL-oracle after MLE | final NLL-oracle | best on the way | final NLL-test | wall time (min) |")
    print("|---|---|---|---|---|---|")
    for n, d in dirs.items():
        print("| " + " | ".join(row(n, d)) + " |")
    if args.figure:
        subprocess.run([sys.executable, "-m", "seqgan", "plot", *map(str, dirs.values()), "--x", "wall",
                        *[a for n in dirs for a in ("--label", n)], "--out", args.figure], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
