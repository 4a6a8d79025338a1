"""Shared helpers of the benchmark scripts in this folder (not a benchmark itself).

- `parse_args`: the common command line, `--threads N` (torch.set_num_threads; 0 keeps
  torch's default) and `--quick` (fewer repeats and smaller slices, for smoke tests).
- `setup`: applies the thread count and `configure_cpu` (glibc allocator tuning
  on, as in real runs) and prints what the process runs with.
- `time_it`: burn-in calls, then the median of repeated `time.perf_counter` measurements.
- `matmul_gflops`: this machine's fp32 matmul rate on a 2048^3 product, in this process, so
  that every achieved rate can be read as a fraction of what the machine does right now
  (the machines are shared and drift from run to run: compare ratios within one run).
- FLOP formulas of the LSTM language model and the CNN discriminator, and table printing.

Run the benchmarks from the repository root:

    python benchmarks/mle.py [--threads N] [--quick]
    python benchmarks/rollout.py [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

from seqgan.config import Config, DiscriminatorConfig, load_config
from seqgan.perf import tune_allocator

REPO_ROOT = Path(__file__).resolve().parents[1]
#: the original's oracle parameters, where the shared reference folder is checked out
ORACLE_NPZ = REPO_ROOT.parent / "shared" / "reference" / "seqgan_oracle.npz"


def configure_cpu(threads: int = 0, allocator: bool = True) -> None:
    """Apply the thread count and (optionally) seqgan's glibc allocator tuning for the rest of the
    process, as a benchmark wants; a run uses `seqgan.perf.cpu_settings`, which restores the thread count."""
    if threads > 0:
        torch.set_num_threads(threads)
    if allocator:
        tune_allocator()


# ----------------------------------------------------------------------------- command line

def make_parser(description: str, device: bool = False) -> argparse.ArgumentParser:
    """--threads and --quick, and with `device` also --device cpu|cuda (check it with `cuda_missing`)."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if device:
        parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                            help="where models, data and random generators live (default cpu)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (torch.set_num_threads); 0 keeps torch's default")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: one repeat of smaller slices, extrapolated (labelled as such)")
    return parser


def parse_args(description: str, argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    return make_parser(description).parse_args(argv)


def cuda_missing(args: argparse.Namespace) -> bool:
    """True (after one line on stderr) when --device cuda was asked for and torch sees no GPU."""
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"--device cuda: no CUDA GPU is visible to torch {torch.__version__} "
              f"(built with CUDA {torch.version.cuda}); use --device cpu", file=sys.stderr)
        return True
    return False


def setup(args: argparse.Namespace) -> None:
    """Threads and allocator as a real run sets them; prints the environment line."""
    configure_cpu(args.threads)  # torch.set_num_threads when > 0, and glibc allocator tuning
    torch.manual_seed(0)
    print(f"torch {torch.__version__}  threads {torch.get_num_threads()}  "
          f"machine {platform.processor() or platform.machine()}  "
          f"mode {'QUICK (smoke test: slices extrapolated, 1 repeat)' if args.quick else 'full'}")
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load1 > 0.5:
        print(f"WARNING: load average {load1:.2f} on {os.cpu_count()} CPUs before this benchmark started: other "
              f"processes compete for the cores and the figures below are not representative "
              f"(with more torch threads than free cores, small ops can slow down by 10x or more)")


def paper_config() -> Config:
    """The paper's sizes: V 5000, E 32, H 32, T 20, batch 64, the paper's discriminator."""
    return load_config("paper")


# ----------------------------------------------------------------------------- timing

@dataclass
class Timing:
    """Seconds of each repeat after burn-in; `median` is the figure reported."""

    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> str:
        """'min-max' over the repeats, for judging the noise."""
        return f"{min(self.seconds):.3g}-{max(self.seconds):.3g}"


def time_it(fn: Callable[[], object], repeats: int = 3, burn_in: int = 1) -> Timing:
    """Call `fn` `burn_in` times untimed, then `repeats` times, each timed with perf_counter."""
    for _ in range(burn_in):
        fn()
    seconds = []
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return Timing(seconds)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """fp32 GFLOP/s of an n x n @ n x n product (2 n^3 FLOPs), median of `repeats` after one burn-in."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    out = torch.empty(n, n)
    t = time_it(lambda: torch.matmul(a, b, out=out), repeats=repeats, burn_in=1)
    return 2.0 * n**3 / t.median / 1e9


# ----------------------------------------------------------------------------- FLOP counts
# Multiply-adds of the matmuls and convolutions, 2 FLOPs each; elementwise work is not counted.
# Training (forward + backward) is counted as 3 x the forward.

def lstm_cell_flops(E: int, H: int) -> int:
    """One token through the LSTM cell only: x @ W (E x 4H) and h @ U (H x 4H)."""
    return 2 * (E * 4 * H + H * 4 * H)


def lstm_token_flops(E: int, H: int, V: int) -> int:
    """One token forward of the LSTM language model: cell + output projection h @ W_out (H x V)."""
    return 2 * (E * 4 * H + H * 4 * H + H * V)


def disc_filters(cfg: DiscriminatorConfig, T: int) -> tuple[list[int], list[int]]:
    """The widths and counts a discriminator of `cfg` has for length T (null: the paper's rule)."""
    from seqgan.config import paper_filters
    sizes, nums = paper_filters(T) if cfg.filter_sizes is None else (cfg.filter_sizes, cfg.num_filters or [])
    return list(sizes), [max(1, round(n * cfg.filter_scale)) for n in nums]


def disc_conv_flops(cfg: DiscriminatorConfig, T: int) -> int:
    """Convolutions of one sequence: 2 * E * sum_k n_k * k * (T - k + 1)."""
    sizes, nums = disc_filters(cfg, T)
    return 2 * cfg.emb_dim * sum(n * k * (T - k + 1) for k, n in zip(sizes, nums))


def disc_highway_flops(cfg: DiscriminatorConfig, T: int = 20) -> int:
    """Highway of one sequence: z (F) @ [Wh | Wt] (F x 2F)."""
    F = sum(disc_filters(cfg, T)[1])
    return 2 * F * 2 * F


def disc_seq_flops(cfg: DiscriminatorConfig, T: int) -> int:
    """One sequence forward of the discriminator: convolutions + highway + output layer (F x 2)."""
    F = sum(disc_filters(cfg, T)[1])
    return disc_conv_flops(cfg, T) + disc_highway_flops(cfg, T) + 2 * F * 2


# ----------------------------------------------------------------------------- printing

def fmt_flops(flops: float) -> str:
    for unit, scale in (("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if flops >= scale:
            return f"{flops / scale:.3g} {unit}"
    return f"{flops:.0f} FLOP"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain left-aligned text table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))


def print_machine_rate(start: float, end: float) -> float:
    """Prints the matmul rates measured at the start and end of the run; returns their mean,
    the denominator of every 'fraction of matmul' column (a large drift means load changed)."""
    mean = (start + end) / 2
    print(f"\nfp32 matmul 2048^3 in this process: {start:.1f} GFLOP/s at start, {end:.1f} at end "
          f"(drift {100 * (end - start) / start:+.0f} %); fractions below use the mean {mean:.1f}")
    return mean


def compare_row(label: str, ref_s: float, ours_s: float) -> list[str]:
    """[reference, its seconds, ours / reference, reference / ours (speed-up)]."""
    return [label, f"{ref_s:g}", f"{ours_s / ref_s:.2f}", f"{ref_s / ours_s:.2f}x"]
