"""Benchmark: what does each piece of a SeqGAN run cost on this device, at what rate, and how
long would the whole `paper` preset take?

At the paper's sizes (`load_config('paper')`: V 5000, E 32, H 32, T 20, batch 64, the paper's
discriminator with 1,720 filters and a highway), on the chosen device (every model, tensor and
torch.Generator lives there), this times:

1. one MLE epoch: 156 batches of 64 over 9,984 sequences (`mle_epoch`, Adam from `make_adam`);
2. one NLL-oracle evaluation (`oracle.nll(gen.sample(9984))`, as a run computes it: sample 9,984
   from the generator, score them with the oracle), and its two parts timed separately;
3. one discriminator epoch over 19,968 sequences (9,984 real + 9,984 generated): 312 batches
   of the per-batch work of `discriminator_round` (forward with dropout drawn from a
   torch.Generator, `discriminator_loss`, backward, Adam step);
4. one discriminator round: `discriminator_round(..., epochs=3)`, which also samples its
   9,984 negatives;
5. rollout rewards for B = 64, N = 16 (`rollout_rewards`) and one whole adversarial generator
   step (`pg_step` with `AdversarialConfig()`: sample, rollout rewards, policy gradient, Adam);
6. one adversarial iteration = 1 generator step + 5 discriminator rounds of 3 epochs,
   computed from (4) and (5), not run.

For each: seconds, FLOPs (the formulas of common.py: matmul/convolution multiply-adds, training
= 3 x forward), the achieved GFLOP/s and its fraction of the device's measured matmul rate
(cpu: fp32 2048^3 in this process, as common.py; cuda: fp32 8192^3 with TF32 off, and the TF32
rate beside it). The pieces run with the library's defaults: on cuda that is IEEE fp32 for
cuBLAS matmuls and, torch's default, TF32 for cuDNN convolutions (the settings are printed).

Then the projected wall time of the whole `paper` preset, by phase: 120 MLE epochs + 25
NLL-oracle evaluations; 50 discriminator pre-training rounds; 200 adversarial iterations + 41
NLL-oracle evaluations; next to the original (TF) implementation's projected 36 h on a 2-core
CPU (shared/docs/performance-notes.md). On cuda, the peak GPU memory of each piece too.

Run from the repository root:

    python benchmarks/pieces.py [--device cpu|cuda] [--precision fp32|bf16] [--threads N] [--quick]

A full run repeats each piece 3 times (median reported); on a 2-core CPU it takes about 10
minutes (the discriminator dominates), on a GPU about a minute. --quick is a smoke test:
every piece once, on a slice (16 of 156 MLE batches, 2,048 of 9,984 samples, 8 of 312
discriminator batches, N = 2 of 16 rollouts), extrapolated linearly; the discriminator round
is then computed from its parts, and every extrapolated or computed figure says so.
`--device cuda` without a visible CUDA GPU exits with status 2. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from common import (Timing, cuda_missing, make_parser, disc_seq_flops, fmt_flops, lstm_cell_flops, lstm_token_flops,
                    matmul_gflops,
                    paper_config, print_machine_rate, print_table, setup, time_it)
from mle import build_oracle
from seqgan.config import AdversarialConfig

from seqgan.models import Discriminator, build_generator
from seqgan.perf import autocast_for
from seqgan.rewards import DiscriminatorReward
from seqgan.rollout import rollout_rewards
from seqgan.train.adversarial import pg_step
from seqgan.train.discriminator import discriminator_epoch, discriminator_round
from seqgan.train.mle import mle_epoch
from seqgan.train.run import (STREAM_DISCRIMINATOR_INIT, STREAM_EVAL, STREAM_GENERATOR_INIT, STREAM_TRAIN,
                              make_adam, make_rng, stream_seed)

# The original (TF, compat.v1) on a 2-core EPYC CPU, seconds per piece (performance-notes.md)
ORIGINAL_S = {"mle": 20.5, "nll": 13.0, "sample": 6.2, "d_epoch": 37.0, "g_step": 15.0}
ORIGINAL_TOTAL_H = 36.0  # its whole `paper` schedule, projected (performance-notes.md)

REPEATS = 3  # timed repeats per piece in a full run (median reported)
ROUND_EPOCHS = 3  # passes per discriminator round, pre-training and adversarial alike
CUDA_MATMUL_N = 8192
# --quick: slices timed once and extrapolated
QUICK_MLE_BATCHES = 16  # of 156
QUICK_SAMPLES = 2048  # of 9,984 NLL-oracle samples
QUICK_D_BATCHES = 8  # of 312
QUICK_ROLLOUTS = 2  # of 16
QUICK_ROUND_REAL = 128  # real sequences (+ as many negatives) of the small discriminator round run


# ----------------------------------------------------------------------------- command line and device

def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """common.py's command line (--threads, --quick) plus --device and --precision."""
    p = make_parser((__doc__ or "").split("\n\n")[0], device=True)
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="bf16: the training forwards and D's scoring under bfloat16 autocast (train.precision)")
    return p.parse_args(argv)


class Stopwatch:
    """common.time_it with the device's queue drained before each timer is read, and the
    peak GPU memory of each piece (cuda only)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def time(self, fn: Callable[[], object], repeats: int, burn_in: int = 0) -> Timing:
        """Burn-in calls, then `repeats` timed calls; each call ends with a synchronize."""
        self.sync()  # nothing queued earlier may land inside the first timer

        def call() -> None:
            fn()
            self.sync()

        return time_it(call, repeats, burn_in)

    def reset_peak(self) -> None:
        if self.cuda:
            self.sync()
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_mib(self) -> Optional[float]:
        """Peak bytes allocated since `reset_peak` (resident models and data included), in MiB."""
        return torch.cuda.max_memory_allocated(self.device) / 2**20 if self.cuda else None


def cuda_matmul_gflops(sw: Stopwatch, tf32: bool, n: int = CUDA_MATMUL_N, inner: int = 10) -> float:
    """fp32 GFLOP/s of n x n @ n x n on the GPU, TF32 on or off for this measurement only;
    `inner` products per timed call, median of 5 after 2 burn-in calls."""
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a = torch.randn(n, n, device=sw.device)
        b = torch.randn(n, n, device=sw.device)
        out = torch.empty(n, n, device=sw.device)

        def products() -> None:
            for _ in range(inner):
                torch.matmul(a, b, out=out)

        t = sw.time(products, repeats=5, burn_in=2)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    return inner * 2.0 * n**3 / t.median / 1e9


@dataclass
class Rates:
    """The device's matmul rates, the denominators of the 'of matmul' columns."""

    fp32: float  # GFLOP/s
    tf32: Optional[float]  # GFLOP/s, cuda only
    label: str


def measure_rates(sw: Stopwatch, quick: bool) -> tuple[float, Optional[float]]:
    if sw.cuda:
        return cuda_matmul_gflops(sw, tf32=False), cuda_matmul_gflops(sw, tf32=True)
    return matmul_gflops(repeats=2 if quick else 5), None


# ----------------------------------------------------------------------------- results

@dataclass
class Piece:
    """One row of the results: full-size seconds, how they were obtained, FLOPs."""

    name: str
    seconds: float
    how: str
    flops: float
    peak_mib: Optional[float] = None
    original_s: Optional[float] = None


def measured(t: Timing, scale: float = 1.0, slice_desc: str = "") -> str:
    """How a figure was obtained: measured at full size, or a slice scaled up by `scale`."""
    times = "once" if len(t.seconds) == 1 else f"median of {len(t.seconds)} ({t.spread} s)"
    if scale != 1.0:
        return f"EXTRAPOLATED x{scale:.3g} from {slice_desc}, {times}"
    return f"measured, {times}"


def fmt_total_flops(flops: float) -> str:
    """common.fmt_flops, with PFLOP for the whole schedule's totals."""
    return f"{flops / 1e15:.3g} PFLOP" if flops >= 1e15 else fmt_flops(flops)


def nll_evaluations(steps: int, every: int) -> int:
    """NLL-oracle evaluations of a phase, as run.py schedules them: every `every` steps and at the end."""
    return sum(1 for s in range(steps) if s % every == 0 or s == steps - 1)


def hours(s: float) -> str:
    return f"{s / 3600:.2f} h"


# ----------------------------------------------------------------------------- main

def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if cuda_missing(args):
        return 2
    device = torch.device(args.device)
    setup(args)  # threads, allocator tuning, environment line, load warning
    quick: bool = args.quick
    repeats = 1 if quick else REPEATS
    sw = Stopwatch(device)
    if sw.cuda:
        print(f"device {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); pieces run with "
              f"cuBLAS fp32 TF32 {'ON' if torch.backends.cuda.matmul.allow_tf32 else 'off'}, "
              f"cuDNN conv TF32 {'ON' if torch.backends.cudnn.allow_tf32 else 'off'} (the defaults, untouched)")
    else:
        print(f"device cpu, {args.precision}")
    ac = autocast_for(args.precision, device)  # train.precision: bf16 autocast of training forwards and scoring

    cfg = paper_config()
    g, dcfg, p, a = cfg.generator, cfg.discriminator, cfg.pretrain, cfg.adversarial
    V, E, H, T = g.vocab_size, g.emb_dim, g.hidden_dim, g.seq_len
    B, clip = cfg.train.batch_size, cfg.train.grad_clip
    M = cfg.oracle.num_samples  # 9,984 real sequences
    n_eval = cfg.train.eval_samples  # 9,984 samples per NLL-oracle evaluation
    mle_batches = M // B  # 156
    d_batches = 2 * M // B  # 312: real + as many negatives
    acfg = AdversarialConfig()  # rollout_num 16, lr 0.01, sum loss, no baseline, score_chunk 0 (by device)
    N = acfg.rollout_num
    assert p.discriminator_epochs == a.discriminator_epochs == ROUND_EPOCHS
    assert p.discriminator_samples == a.discriminator_samples == 0  # every round uses the whole real set
    assert a.generator_steps == 1 and acfg.rollout_num == a.rollout_num

    rate_start = measure_rates(sw, quick)

    # models, data and random streams on the device, seeded as train/run.py seeds them
    oracle, oracle_desc = build_oracle(cfg)
    oracle = oracle.to(device)
    rng = make_rng(cfg.seed, STREAM_TRAIN, device)
    rng_eval = make_rng(cfg.seed, STREAM_EVAL, device)
    gen = build_generator(g, torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_GENERATOR_INIT))).to(device)
    disc = Discriminator(dcfg, V, T, torch.Generator().manual_seed(
        stream_seed(cfg.seed, STREAM_DISCRIMINATOR_INIT))).to(device)
    opt_mle = make_adam(gen, p.generator_lr)
    opt_d = make_adam(disc, dcfg.lr)
    opt_pg = make_adam(gen, a.generator_lr)
    n_real = max(QUICK_MLE_BATCHES * B, QUICK_D_BATCHES * B // 2, QUICK_ROUND_REAL) if quick else M
    real = oracle.sample(n_real, rng)  # (n_real, T) on the device
    print(f"oracle: {oracle_desc}; generator V {V} E {E} H {H} T {T}; batch {B}; discriminator E {dcfg.emb_dim}, "
          f"{sum(disc.num_filters)} filters of widths {disc.filter_sizes}; rollouts N {N}")

    # 1. MLE epoch ---------------------------------------------------------------------------
    n_mle = QUICK_MLE_BATCHES if quick else mle_batches
    sw.reset_peak()
    mle_epoch(gen, opt_mle, real[: 2 * B], B, clip, autocast=ac)  # burn-in: allocator, Adam state, kernels
    t_mle = sw.time(lambda: mle_epoch(gen, opt_mle, real[: n_mle * B], B, clip, autocast=ac), repeats)
    mle_scale = mle_batches / n_mle
    peak_mle = sw.peak_mib()

    # 2. NLL-oracle evaluation, and its parts --------------------------------------------------
    n_nll = QUICK_SAMPLES if quick else n_eval
    nll_scale = n_eval / n_nll
    sw.reset_peak()
    oracle.nll(gen.sample(min(n_nll, 2048), rng_eval))  # burn-in at the sampler's full row block
    t_nll = sw.time(lambda: oracle.nll(gen.sample(n_nll, rng_eval)), repeats)
    t_sample = sw.time(lambda: gen.sample(n_nll, rng_eval), repeats)
    samples = gen.sample(n_nll, rng_eval)
    t_score = sw.time(lambda: oracle.nll(samples), repeats)
    peak_nll = sw.peak_mib()

    # 3. discriminator epoch -------------------------------------------------------------------
    n_d = QUICK_D_BATCHES if quick else d_batches
    half = n_d * B // 2
    x = torch.cat([real[:half], gen.sample(half, rng)])  # (n_d * B, T): real + generated, shuffled
    y = torch.cat([torch.ones(half, dtype=torch.long, device=device),
                   torch.zeros(half, dtype=torch.long, device=device)])
    perm = torch.randperm(x.shape[0], generator=rng, device=device)
    x, y = x[perm], y[perm]
    sw.reset_peak()
    discriminator_epoch(disc, disc, opt_d, x[: 2 * B], y[: 2 * B], B, dcfg.l2, rng, ac)  # burn-in: Adam state, kernels
    t_d = sw.time(lambda: discriminator_epoch(disc, disc, opt_d, x, y, B, dcfg.l2, rng, ac), repeats)
    d_scale = d_batches / n_d
    peak_d = sw.peak_mib()

    # 4. discriminator round (samples its 9,984 negatives, then 3 epochs) ------------------------
    sw.reset_peak()
    t_round_small = sw.time(lambda: discriminator_round(disc, opt_d, gen, real, ROUND_EPOCHS, B, dcfg.l2, rng,
                                                        num_samples=QUICK_ROUND_REAL, autocast=ac),
                            1)  # burn-in / code path
    t_round = None if quick else sw.time(
        lambda: discriminator_round(disc, opt_d, gen, real, ROUND_EPOCHS, B, dcfg.l2, rng, autocast=ac), repeats)
    peak_round = sw.peak_mib()

    # 5. rollout rewards and the adversarial generator step --------------------------------------
    n_roll = QUICK_ROLLOUTS if quick else N
    roll_scale = N / n_roll
    sw.reset_peak()
    Y = gen.sample(B, rng)  # (B, T)
    rollout_rewards(gen, DiscriminatorReward(disc, acfg.score_chunk, autocast=ac), Y, 2, rng)  # burn-in at small N
    t_roll = sw.time(lambda: rollout_rewards(gen, DiscriminatorReward(disc, acfg.score_chunk, autocast=ac), Y, n_roll,
                                             rng), repeats)
    pg_cfg = AdversarialConfig(rollout_num=n_roll)
    # burn-in: Adam state
    pg_step(gen, gen, DiscriminatorReward(disc, autocast=ac), opt_pg, AdversarialConfig(rollout_num=2), B, clip, rng,
            autocast=ac)
    t_pg = sw.time(lambda: pg_step(gen, gen, DiscriminatorReward(disc, autocast=ac), opt_pg, pg_cfg, B, clip, rng,
                                   autocast=ac), repeats)
    peak_adv = sw.peak_mib()

    rate_end = measure_rates(sw, quick)

    # ----------------------------------------------------------------------------- the device's rate
    if sw.cuda:
        assert rate_start[1] is not None and rate_end[1] is not None
        fp32 = (rate_start[0] + rate_end[0]) / 2
        tf32 = (rate_start[1] + rate_end[1]) / 2
        print(f"\nmatmul {CUDA_MATMUL_N}^3 on the GPU: fp32 (TF32 off) {rate_start[0]:.0f} GFLOP/s at start, "
              f"{rate_end[0]:.0f} at end; TF32 {rate_start[1]:.0f} at start, {rate_end[1]:.0f} at end; "
              f"fractions below use the means, {fp32:.0f} and {tf32:.0f}")
        rates = Rates(fp32, tf32, f"fp32 {fp32:.0f} GFLOP/s (TF32 off), TF32 {tf32:.0f}")
    else:
        fp32 = print_machine_rate(rate_start[0], rate_end[0])
        rates = Rates(fp32, None, f"fp32 {fp32:.1f} GFLOP/s")

    # ----------------------------------------------------------------------------- FLOPs
    tok, cell, d_seq = lstm_token_flops(E, H, V), lstm_cell_flops(E, H), disc_seq_flops(dcfg, T)
    tok_oracle = lstm_token_flops(oracle.emb_dim, oracle.hidden_dim, oracle.vocab_size)
    f_sample = n_eval * T * tok  # sampling 9,984 sequences (NLL-oracle, and a round's negatives: M = n_eval)
    f_score = n_eval * T * tok_oracle
    f_d_epoch = 3 * d_batches * B * d_seq
    f_round = M * T * tok + ROUND_EPOCHS * f_d_epoch
    f_rollout = B * T * cell + (T - 1) * T // 2 * N * B * tok + ((T - 1) * N * B + B) * d_seq
    f_pg = B * T * tok + f_rollout + 3 * B * T * tok  # sample B, rollout, teacher-forced training pass

    # ----------------------------------------------------------------------------- seconds at full size
    mle_s = t_mle.median * mle_scale
    nll_s, sample_s, score_s = (t.median * nll_scale for t in (t_nll, t_sample, t_score))
    d_epoch_s = t_d.median * d_scale
    round_parts_s = sample_s * M / n_eval + ROUND_EPOCHS * d_epoch_s  # sampling M = 9,984 negatives + 3 epochs
    roll_s = t_roll.median * roll_scale
    # quick: pg_step ran at N = 2; add the rollout's extrapolated growth from N = 2 to N = 16
    pg_s = t_pg.median + (roll_s - t_roll.median)
    if t_round is not None:
        round_s, round_how = t_round.median, measured(t_round)
    else:
        round_s, round_how = round_parts_s, (f"COMPUTED from the EXTRAPOLATED pieces: sampling {M:,} "
                                             f"+ {ROUND_EPOCHS} x discriminator epoch")
    iter_s = a.generator_steps * pg_s + a.discriminator_rounds * round_s
    f_iter = a.generator_steps * f_pg + a.discriminator_rounds * f_round
    original_round = ORIGINAL_S["sample"] + ROUND_EPOCHS * ORIGINAL_S["d_epoch"]

    pieces = [
        Piece(f"1. MLE epoch ({mle_batches} x {B})", mle_s,
              measured(t_mle, mle_scale, f"{n_mle}/{mle_batches} batches"),
              3 * mle_batches * B * T * tok, peak_mle, ORIGINAL_S["mle"]),
        Piece(f"2. NLL-oracle evaluation ({n_eval:,})", nll_s, measured(t_nll, nll_scale, f"{n_nll}/{n_eval} samples"),
              f_sample + f_score, peak_nll, ORIGINAL_S["nll"]),
        Piece(f"   sampling {n_eval:,} from G", sample_s, measured(t_sample, nll_scale, f"{n_nll}/{n_eval} samples"),
              f_sample, None, ORIGINAL_S["sample"]),
        Piece(f"   oracle scoring {n_eval:,}", score_s, measured(t_score, nll_scale, f"{n_nll}/{n_eval} samples"),
              f_score),
        Piece(f"3. discriminator epoch ({d_batches} x {B})", d_epoch_s,
              measured(t_d, d_scale, f"{n_d}/{d_batches} batches"),
              f_d_epoch, peak_d, ORIGINAL_S["d_epoch"]),
        Piece(f"4. discriminator round (sample + {ROUND_EPOCHS} ep)", round_s, round_how, f_round, peak_round,
              original_round),
        Piece(f"5. rollout rewards (B {B}, N {N})", roll_s, measured(t_roll, roll_scale, f"N={n_roll}"), f_rollout,
              peak_adv),
        Piece("   adversarial generator step", pg_s,
              measured(t_pg) if n_roll == N else
              f"EXTRAPOLATED: pg_step at N={n_roll} + {roll_scale - 1:g} x rollout(N={n_roll})",
              f_pg, peak_adv, ORIGINAL_S["g_step"]),
        Piece(f"6. adversarial iteration (1 g + {a.discriminator_rounds} rounds)", iter_s,
              f"COMPUTED: generator step + {a.discriminator_rounds} x round", f_iter, None,
              ORIGINAL_S["g_step"] + a.discriminator_rounds * original_round),
    ]

    header = ["piece", "seconds", "how", "FLOPs", "GFLOP/s", "of fp32 mm"]
    if sw.cuda:
        header += ["of TF32 mm", "peak GPU MiB"]
    header += ["original s", "speed-up"]
    rows = []
    for pc in pieces:
        achieved = pc.flops / pc.seconds / 1e9
        row = [pc.name, f"{pc.seconds:.3f}", pc.how, fmt_flops(pc.flops), f"{achieved:.1f}",
               f"{100 * achieved / rates.fp32:.1f} %"]
        if sw.cuda:
            row += [f"{100 * achieved / (rates.tf32 or 1.0):.1f} %",
                    "" if pc.peak_mib is None else f"{pc.peak_mib:.0f}"]
        row += ["" if pc.original_s is None else f"{pc.original_s:g}",
                "" if pc.original_s is None else f"{pc.original_s / pc.seconds:.1f}x"]
        rows.append(row)
    print_table(f"Pieces at the paper's sizes on {device.type}: seconds at full size, FLOPs, achieved rate vs "
                f"matmul ({rates.label})", header, rows)
    print(f"  FLOPs: G token forward {fmt_flops(tok)}, oracle {fmt_flops(tok_oracle)}, D sequence forward "
          f"{fmt_flops(d_seq)}; training = 3 x forward; rollout = teacher-forced pass + (T-1)T/2*N*B sampled tokens"
          f" + D on (T-1)*N*B + B sequences")
    print(f"  original s: the original (TF) on a 2-core CPU, performance-notes.md; its round = sampling "
          f"{ORIGINAL_S['sample']:g} + {ROUND_EPOCHS} x {ORIGINAL_S['d_epoch']:g} s (computed)")
    print(f"  round from its parts (sampling {M:,} + {ROUND_EPOCHS} x epoch): {round_parts_s:.3f} s"
          + (f"; measured round / parts = {round_s / round_parts_s:.2f}" if t_round is not None else ""))
    print(f"  discriminator_round run end to end at {QUICK_ROUND_REAL} real + {QUICK_ROUND_REAL} negatives, "
          f"{ROUND_EPOCHS} epochs (burn-in, code path check): {t_round_small.median:.3f} s")
    if sw.cuda:
        print("  peak GPU MiB: torch.cuda.max_memory_allocated over the piece's burn-in and repeats (models and "
              "data resident); step 5's peak covers the rollout and the generator step together"
              + ("; --quick: peaks of the slices run, below full size (step 4: the small round)" if quick else ""))

    # ----------------------------------------------------------------------------- the whole `paper` preset
    n_nll_mle = nll_evaluations(p.generator_epochs, cfg.train.eval_every)  # 25
    n_nll_adv = nll_evaluations(a.iterations, cfg.train.eval_every)  # 41
    schedule = [  # (phase, component, count, our s each, FLOPs each, original s each)
        ("MLE pre-training", "MLE epoch", p.generator_epochs, mle_s, pieces[0].flops, ORIGINAL_S["mle"]),
        ("MLE pre-training", "NLL-oracle evaluation", n_nll_mle, nll_s, pieces[1].flops, ORIGINAL_S["nll"]),
        ("D pre-training", f"D round (sample + {ROUND_EPOCHS} ep)", p.discriminator_rounds, round_s, f_round,
         original_round),
        ("adversarial", "generator step", a.iterations * a.generator_steps, pg_s, f_pg, ORIGINAL_S["g_step"]),
        ("adversarial", f"D round (sample + {ROUND_EPOCHS} ep)", a.iterations * a.discriminator_rounds, round_s,
         f_round, original_round),
        ("adversarial", "NLL-oracle evaluation", n_nll_adv, nll_s, pieces[1].flops, ORIGINAL_S["nll"]),
    ]
    total_s = sum(n * s for _, _, n, s, _, _ in schedule)
    total_f = sum(n * f for _, _, n, _, f, _ in schedule)
    total_orig = sum(n * o for _, _, n, _, _, o in schedule)
    rows = []
    for phase in dict.fromkeys(ph for ph, *_ in schedule):
        items = [r for r in schedule if r[0] == phase]
        for _, comp, n, s, f, o in items:
            rows.append([f"  {comp}", f"{n}", f"{s:.3f}", f"{n * s:.0f}", hours(n * s),
                         f"{100 * n * s / total_s:.1f} %",
                         fmt_total_flops(n * f), hours(n * o)])
        ph_s = sum(n * s for _, _, n, s, _, _ in items)
        ph_f = sum(n * f for _, _, n, _, f, _ in items)
        ph_o = sum(n * o for _, _, n, _, _, o in items)
        rows.append([f"{phase} (phase)", "", "", f"{ph_s:.0f}", hours(ph_s), f"{100 * ph_s / total_s:.1f} %",
                     fmt_total_flops(ph_f), hours(ph_o)])
    rows.append(["whole `paper` preset", "", "", f"{total_s:.0f}", hours(total_s), "100 %", fmt_total_flops(total_f),
                 f"{ORIGINAL_TOTAL_H:g} h (notes)"])
    print_table(f"Projected wall time of the whole `paper` preset on {device.type}"
                + (" (from EXTRAPOLATED --quick figures)" if quick else ""),
                ["phase / component", "count", "s each", "total s", "total", "share", "FLOPs", "original (TF)"],
                rows)
    print(f"  schedule: {p.generator_epochs} MLE epochs + {n_nll_mle} NLL-oracle evaluations; "
          f"{p.discriminator_rounds} D rounds; {a.iterations} iterations x ({a.generator_steps} generator step "
          f"+ {a.discriminator_rounds} D rounds) + {n_nll_adv} NLL-oracle evaluations")
    print(f"  original (TF): per-component hours from performance-notes.md's per-piece seconds "
          f"(sum {total_orig / 3600:.1f} h), against its projected {ORIGINAL_TOTAL_H:g} h on a 2-core CPU")
    print(f"\nprojected: {hours(total_s)} on {device.type} at {total_f / total_s / 1e9:.1f} GFLOP/s overall, "
          f"vs the original's {ORIGINAL_TOTAL_H:g} h on a 2-core CPU: "
          f"{ORIGINAL_TOTAL_H * 3600 / total_s:.1f}x faster")
    if quick:
        print("\n--quick: slices timed once and extrapolated linearly (round and iteration computed from parts); "
              "run without --quick for the figures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
