"""Benchmark: how long do MLE pre-training and the NLL-oracle evaluation take at the paper's sizes?

Questions answered, at vocabulary 5000, embedding 32, hidden 32, T = 20, batch 64:

(a) seconds per MLE epoch over 9,984 sequences (`seqgan.train.mle.mle_epoch`, fused Adam
    from `make_adam`, on a `Generator`), real data sampled from the original's oracle
    (../shared/reference/seqgan_oracle.npz) when present, else from `Oracle.seeded`;
(b) seconds per NLL-oracle evaluation (`oracle.nll(gen.sample(9984))`, as a run computes it), and its
    two parts: sampling from the generator and scoring by the oracle;
(c) the FLOPs of each, the achieved GFLOP/s, and that as a fraction of this machine's fp32
    matmul rate measured in the same process (2048^3 product);
(d) the ratio of each time to the original implementation's (TF) on this kind of machine and
    to the project's targets (6 s per MLE epoch, 2 s per NLL-oracle evaluation).

FLOPs count matmul multiply-adds (2 FLOPs each): one token forward of the LSTM LM is
2 * (E*4H + H*4H + H*V); training is 3 x forward; an NLL-oracle evaluation is the sampling
forward plus the scoring forward, each over 9,984 * 20 tokens.

Run from the repository root (the full run takes a few minutes on 2 cores):

    python benchmarks/mle.py [--threads N] [--quick]

--quick times a slice (16 of the 156 batches of an epoch, 2,048 of the 9,984 samples), once,
and extrapolates linearly; every extrapolated figure is labelled. Nothing is written to disk.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import torch

from common import (ORACLE_NPZ, compare_row, fmt_flops, lstm_token_flops, matmul_gflops, paper_config,
                    parse_args, print_machine_rate, print_table, setup, time_it)
from seqgan.config import Config
from seqgan.models import build_generator, Oracle
from seqgan.train.mle import mle_epoch
from seqgan.train.run import make_adam

# Reference seconds on this kind of machine (2-core EPYC, fp32, no GPU)
ORIGINAL_ISSUE = {"mle": 20.0, "nll": 9.0}  # the original (TF) as reported in the issue
ORIGINAL_NOTES = {"mle": 20.5, "nll": 13.0}  # the original per shared/docs/performance-notes.md (20-21 s, 13 s)
TARGET = {"mle": 6.0, "nll": 2.0}  # this project's targets

QUICK_BATCHES = 16  # MLE batches timed under --quick (of 156)
QUICK_SAMPLES = 2048  # NLL-oracle samples timed under --quick (of 9,984)


def build_oracle(cfg: Config) -> tuple[Oracle, str]:
    """The original's oracle when its .npz is checked out, else the seeded one of the config."""
    g = cfg.generator
    if ORACLE_NPZ.is_file():
        return Oracle.from_npz(ORACLE_NPZ, g.seq_len, g.start_token), f"original's ({ORACLE_NPZ})"
    o = cfg.oracle
    return (Oracle.seeded(g.vocab_size, o.emb_dim, o.hidden_dim, g.seq_len, o.seed, o.init_std, g.start_token),
            f"seeded N(0, {o.init_std}) seed {o.seed} ({ORACLE_NPZ} not found)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args((__doc__ or "").split("\n\n")[0], argv)
    setup(args)
    quick: bool = args.quick
    repeats = 1 if quick else 3

    cfg = paper_config()
    g = cfg.generator
    V, E, H, T = g.vocab_size, g.emb_dim, g.hidden_dim, g.seq_len
    B, clip = cfg.train.batch_size, cfg.train.grad_clip
    M = cfg.oracle.num_samples  # 9,984 sequences per epoch
    n_eval = cfg.train.eval_samples  # 9,984 samples per NLL-oracle evaluation
    batches = M // B  # 156

    rate_start = matmul_gflops()

    oracle, oracle_desc = build_oracle(cfg)
    print(f"oracle: {oracle_desc}; generator V {V} E {E} H {H} T {T} batch {B}")
    data_rng = torch.Generator().manual_seed(0)
    timed_batches = QUICK_BATCHES if quick else batches
    real = oracle.sample(max(timed_batches, 4) * B, data_rng)  # (9984, T); fewer rows under --quick
    gen = build_generator(g, torch.Generator().manual_seed(1))
    opt = make_adam(gen, cfg.pretrain.generator_lr)

    # (a) MLE epoch ------------------------------------------------------------------------
    mle_epoch(gen, opt, real[: 4 * B], B, clip)  # burn-in: allocator, Adam state, kernels
    t_mle = time_it(lambda: mle_epoch(gen, opt, real[: timed_batches * B], B, clip), repeats, burn_in=0)
    mle_s = t_mle.median * batches / timed_batches

    # (b) NLL-oracle evaluation and its parts ------------------------------------------------
    n_timed = QUICK_SAMPLES if quick else n_eval
    scale = n_eval / n_timed
    eval_rng = torch.Generator().manual_seed(2)
    t_nll = time_it(lambda: oracle.nll(gen.sample(n_timed, eval_rng)), repeats, burn_in=1)
    t_sample = time_it(lambda: gen.sample(n_timed, eval_rng), repeats, burn_in=0)
    samples = gen.sample(n_timed, eval_rng)
    t_score = time_it(lambda: oracle.nll(samples), repeats, burn_in=0)
    nll_s, sample_s, score_s = (t.median * scale for t in (t_nll, t_sample, t_score))

    rate_end = matmul_gflops()
    rate = print_machine_rate(rate_start, rate_end)

    # (c) FLOPs and achieved rates -----------------------------------------------------------
    tok_gen = lstm_token_flops(E, H, V)
    tok_oracle = lstm_token_flops(oracle.emb_dim, oracle.hidden_dim, oracle.vocab_size)
    flops = {
        "MLE epoch": 3 * batches * B * T * tok_gen,
        "NLL-oracle evaluation": n_eval * T * (tok_gen + tok_oracle),
        "  sampling 9,984 from G": n_eval * T * tok_gen,
        "  oracle scoring": n_eval * T * tok_oracle,
    }
    seconds = {"MLE epoch": mle_s, "NLL-oracle evaluation": nll_s,
               "  sampling 9,984 from G": sample_s, "  oracle scoring": score_s}
    timings = {"MLE epoch": t_mle, "NLL-oracle evaluation": t_nll,
               "  sampling 9,984 from G": t_sample, "  oracle scoring": t_score}
    extrap = {"MLE epoch": f"{timed_batches}/{batches} batches x{batches / timed_batches:.2f}"}
    for k in ("NLL-oracle evaluation", "  sampling 9,984 from G", "  oracle scoring"):
        extrap[k] = f"{n_timed}/{n_eval} samples x{scale:.2f}"
    rows = []
    for k, s in seconds.items():
        achieved = flops[k] / s / 1e9
        how = f"EXTRAPOLATED from {extrap[k]}" if quick else "measured"
        rows.append([k, f"{s:.3f}", timings[k].spread, how, fmt_flops(flops[k]), f"{achieved:.1f}",
                     f"{100 * achieved / rate:.0f} %"])
    print_table(f"(a-c) seconds (median of {repeats}), FLOPs, achieved rate vs matmul {rate:.1f} GFLOP/s",
                ["piece", "seconds", "repeats' raw s (min-max)", "how", "FLOPs", "GFLOP/s", "of matmul"], rows)
    print(f"  per token forward: G {fmt_flops(tok_gen)}, oracle {fmt_flops(tok_oracle)}; MLE = 3 x forward over "
          f"{batches} x {B} x {T} tokens; NLL = (G sampling + oracle scoring) over {n_eval} x {T} tokens")
    print(f"  NLL-oracle = {100 * sample_s / nll_s:.0f} % sampling + {100 * score_s / nll_s:.0f} % scoring "
          f"(parts timed separately; their sum {sample_s + score_s:.3f} s)")

    # (d) against the original and the targets -----------------------------------------------
    cmp_rows = []
    for key, name, ours in (("mle", "MLE epoch", mle_s), ("nll", "NLL-oracle evaluation", nll_s)):
        cmp_rows.append([name, f"{ours:.3f}"] + compare_row("original (TF), per the issue", ORIGINAL_ISSUE[key], ours))
        cmp_rows.append(["", ""] + compare_row("original (TF), performance-notes.md", ORIGINAL_NOTES[key], ours))
        cmp_rows.append(["", ""] + compare_row("target", TARGET[key], ours))
    print_table("(d) against the original's times on this kind of machine and the targets"
                + (" (ours EXTRAPOLATED, --quick)" if quick else ""),
                ["piece", "ours s", "reference", "ref s", "ours/ref", "speed-up"], cmp_rows)
    if quick:
        print("\n--quick: slices timed once and extrapolated linearly; run without --quick for the figures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
