"""Benchmark: what do the adversarial pieces cost at the paper's sizes, and what does the
vectorised rollout buy over a loop shaped like the original's?

Questions answered, at B = 64, T = 20, N = 16 rollouts, V 5000, E 32, H 32 and the paper's
discriminator (`DiscriminatorConfig()` defaults: 1,720 filters of widths 1-20, highway):

(a) seconds of our vectorised `seqgan.rollout.rollout_rewards(gen, disc, Y, 16, rng)`;
(b) seconds of a loop rollout written here in the shape of the original's `get_reward`
    (for each rollout n, for each prefix length p = 1..T-1: re-run the generator over the
    prefix step by step from the start, sample the rest step by step for the B rows, score
    the B completions with D; then D(Y) for the last column, once per rollout as the
    original does), measured in the same run, and the ratio (b) / (a);
(c) seconds per adversarial generator step (`seqgan.train.adversarial.pg_step`:
    sample B, rollout rewards, policy-gradient loss, backward, clip, fused Adam);
(d) seconds per discriminator epoch over 19,968 sequences: some batches of the same
    per-batch training as `seqgan.train.discriminator.discriminator_round` (forward with
    dropout, `discriminator_loss`, backward, fused Adam step) timed and extrapolated to
    312 batches (the round's sampling of 9,984 negatives is not included);
(e) the FLOPs of each piece and the achieved GFLOP/s, also as a fraction of this machine's
    fp32 matmul rate measured in the same process (2048^3 product);
(f) the ratio to the original's (TF) times on this kind of machine, ~14-15 s per generator
    step and ~35-37 s per discriminator epoch, and TextGAN-PyTorch's 50 s and 41 s.

FLOPs count matmul/convolution multiply-adds (2 FLOPs each): D forward per sequence is the
convolutions 2*E*sum_k n_k*k*(T-k+1) + highway 2*F*2F + output 2*F*2; a sampled token costs
2*(E*4H + H*4H + H*V) and a rollout samples (T-1)T/2 * N * B of them; a teacher-forced
prefix step (cell only) costs 2*(E*4H + H*4H); training is 3 x forward.

Run from the repository root (the full run takes a few minutes on 2 cores):

    python benchmarks/rollout.py [--threads N] [--quick]

--quick times everything once; the loop rollout runs with N = 2 and is extrapolated x8 to
N = 16, the discriminator epoch from 6 batches; every extrapolated figure is labelled.
Nothing is written to disk.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import torch
from torch import Tensor

from common import (compare_row, disc_conv_flops, disc_highway_flops, disc_seq_flops, fmt_flops,
                    lstm_cell_flops, lstm_token_flops, matmul_gflops, paper_config, parse_args,
                    print_machine_rate, print_table, setup, time_it)
from seqgan.config import AdversarialConfig, DiscriminatorConfig

from seqgan.models import Discriminator, build_generator
from seqgan.policies import LSTMPolicy
from seqgan.rewards import DiscriminatorReward
from seqgan.policies.sampler import sample_categorical
from seqgan.rollout import rollout_rewards
from seqgan.train.adversarial import pg_step
from seqgan.train.discriminator import discriminator_epoch
from seqgan.train.run import make_adam

# Reference seconds on this kind of machine (2-core EPYC, fp32, no GPU)
ORIGINAL = {"g_step": 14.5, "d_epoch": 36.0}  # the original (TF): ~14-15 s and ~35-37 s
TEXTGAN = {"g_step": 50.0, "d_epoch": 41.0}  # TextGAN-PyTorch (performance-notes.md: 51 s and 41 s)

N_ROLLOUTS = 16
QUICK_LOOP_ROLLOUTS = 2  # loop rollouts timed under --quick, extrapolated to N_ROLLOUTS
D_EPOCH_SEQUENCES = 19968  # 9,984 real + 9,984 generated
QUICK_D_STEPS, FULL_D_STEPS = 6, 48  # discriminator batches timed per repeat


@torch.no_grad()
def loop_rollout_rewards(gen: LSTMPolicy, disc: Discriminator, Y: Tensor, num_rollouts: int,
                         rng: torch.Generator) -> Tensor:
    """Q (B, T) computed in the shape of the original's rollout (LantaoYu/SeqGAN rollout.py):
    one generator pass per (rollout, prefix length), batch B, step by step, then D on B rows."""
    B, T = Y.shape
    H = gen.hidden_dim
    rewards = torch.zeros(B, T)
    for _ in range(num_rollouts):
        for p in range(1, T):  # prefix Y[:, :p] is kept, tokens p..T-1 are sampled
            h, c = torch.zeros(B, H), torch.zeros(B, H)
            x = torch.full((B,), gen.start_token, dtype=torch.long)
            seq = Y.clone()
            for t in range(p):  # teacher forcing over the prefix: the recurrence only, no output layer
                h, c = gen.cell(gen.embedding[x] @ gen.W + gen.b, h, c)
                x = Y[:, t]
            for t in range(p, T):  # sample the rest, one categorical draw per row and step
                h, c = gen.cell(gen.embedding[x] @ gen.W + gen.b, h, c)
                x = sample_categorical(gen.logits(h), rng)
                seq[:, t] = x
            rewards[:, p - 1] += disc.prob_real(seq)
        rewards[:, T - 1] += disc.prob_real(Y)  # the last token's reward, scored in every rollout
    return rewards / num_rollouts


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args((__doc__ or "").split("\n\n")[0], argv)
    setup(args)
    quick: bool = args.quick
    repeats = 1 if quick else 3

    cfg = paper_config()
    g = cfg.generator
    V, E, H, T = g.vocab_size, g.emb_dim, g.hidden_dim, g.seq_len
    B, clip, N = cfg.train.batch_size, cfg.train.grad_clip, N_ROLLOUTS
    dcfg = DiscriminatorConfig()  # the paper's discriminator
    acfg = AdversarialConfig()  # rollout_num 16, lr 0.01, sum loss, no baseline
    assert acfg.rollout_num == N

    rate_start = matmul_gflops()

    gen = build_generator(g, torch.Generator().manual_seed(1))
    disc = Discriminator(dcfg, V, T, torch.Generator().manual_seed(2))
    rng = torch.Generator().manual_seed(0)
    Y = gen.sample(B, rng)  # (B, T)
    print(f"generator V {V} E {E} H {H} T {T}; B {B}, N {N}; discriminator E {dcfg.emb_dim}, "
          f"{sum(disc.num_filters)} filters of widths {disc.filter_sizes}")

    # (a) vectorised rollout ------------------------------------------------------------------
    rollout_rewards(gen, DiscriminatorReward(disc), Y, 2, rng)  # burn-in (allocator, kernels) at small N
    t_vec = time_it(lambda: rollout_rewards(gen, DiscriminatorReward(disc), Y, N, rng), repeats,
                    burn_in=0 if quick else 1)
    # (a') the same with plain convolutions instead of the shared first-layer tables
    t_plain = time_it(lambda: rollout_rewards(gen, DiscriminatorReward(disc, tables=False), Y, N, rng), repeats,
                      burn_in=0)
    comp = torch.randint(0, V, ((T - 1) * N * B, T), generator=rng)  # D scoring alone, both ways
    t_score_tab = time_it(lambda: disc.prob_real(comp, shared_tables=True), repeats, burn_in=0)
    t_score_plain = time_it(lambda: disc.prob_real(comp, shared_tables=False), repeats, burn_in=0)

    # (b) loop rollout in the original's shape --------------------------------------------------
    n_loop = QUICK_LOOP_ROLLOUTS if quick else N
    t_loop = time_it(lambda: loop_rollout_rewards(gen, DiscriminatorReward(disc), Y, n_loop, rng), repeats, burn_in=0)
    loop_s = t_loop.median * N / n_loop
    t_vec_small = (time_it(lambda: rollout_rewards(gen, DiscriminatorReward(disc), Y, n_loop, rng), repeats, burn_in=0)
                   if quick else None)

    # (c) adversarial generator step ---------------------------------------------------------
    opt_pg = make_adam(gen, acfg.generator_lr)
    # burn-in: Adam state
    pg_step(gen, gen, DiscriminatorReward(disc), opt_pg, AdversarialConfig(rollout_num=2), B, clip, rng)
    t_pg = time_it(lambda: pg_step(gen, gen, DiscriminatorReward(disc), opt_pg, acfg, B, clip, rng), repeats, burn_in=0)

    # (d) discriminator epoch ----------------------------------------------------------------
    steps = QUICK_D_STEPS if quick else FULL_D_STEPS
    d_batches = D_EPOCH_SEQUENCES // B  # 312
    # token values do not change D's cost: uniform tokens and labels stand in for real + fake
    x = torch.randint(0, V, (steps * B, T), generator=rng)
    y = torch.randint(0, 2, (steps * B,), generator=rng)
    opt_d = make_adam(disc, cfg.discriminator.lr)
    discriminator_epoch(disc, disc, opt_d, x[: 2 * B], y[: 2 * B], B, dcfg.l2, rng)  # burn-in: Adam state
    t_d = time_it(lambda: discriminator_epoch(disc, disc, opt_d, x, y, B, dcfg.l2, rng), repeats, burn_in=0)
    d_epoch_s = t_d.median * d_batches / steps

    rate_end = matmul_gflops()
    rate = print_machine_rate(rate_start, rate_end)

    # (e) FLOPs and achieved rates -----------------------------------------------------------
    tok, cell, d_seq = lstm_token_flops(E, H, V), lstm_cell_flops(E, H), disc_seq_flops(dcfg, T)
    completion_tokens = (T - 1) * T // 2 * N * B  # sum over p of (T - p) sampled tokens, per rollout and row
    f_vec = {"teacher-forced pass over Y (cell only)": B * T * cell,
             "completion sampling": completion_tokens * tok,
             "D scoring": ((T - 1) * N * B + B) * d_seq}
    f_loop = {"teacher-forced prefixes (cell only)": (T - 1) * T // 2 * N * B * cell,
              "completion sampling": completion_tokens * tok,
              "D scoring": N * T * B * d_seq}
    n_scored = (T - 1) * N * B
    flops = {
        "(a) rollout, vectorised": sum(f_vec.values()),
        "(a') rollout, vectorised, plain convolutions": sum(f_vec.values()),
        "D scoring of the completions, shared tables": n_scored * d_seq,
        "D scoring of the completions, plain convolutions": n_scored * d_seq,
        "(b) rollout, loop (original's shape)": sum(f_loop.values()),
        "(c) adversarial generator step": B * T * tok + sum(f_vec.values()) + 3 * B * T * tok,
        "(d) discriminator epoch": 3 * d_batches * B * d_seq,
    }
    seconds = {"(a) rollout, vectorised": t_vec.median,
               "(a') rollout, vectorised, plain convolutions": t_plain.median,
               "D scoring of the completions, shared tables": t_score_tab.median,
               "D scoring of the completions, plain convolutions": t_score_plain.median,
               "(b) rollout, loop (original's shape)": loop_s,
               "(c) adversarial generator step": t_pg.median, "(d) discriminator epoch": d_epoch_s}
    spread = {"(a) rollout, vectorised": t_vec.spread, "(a') rollout, vectorised, plain convolutions": t_plain.spread,
              "D scoring of the completions, shared tables": t_score_tab.spread,
              "D scoring of the completions, plain convolutions": t_score_plain.spread,
              "(b) rollout, loop (original's shape)": t_loop.spread,
              "(c) adversarial generator step": t_pg.spread, "(d) discriminator epoch": t_d.spread}
    how = {"(a) rollout, vectorised": "measured", "(a') rollout, vectorised, plain convolutions": "measured",
           "D scoring of the completions, shared tables": "measured (plain-equivalent FLOPs)",
           "D scoring of the completions, plain convolutions": "measured",
           "(b) rollout, loop (original's shape)":
               f"EXTRAPOLATED from N={n_loop} x{N / n_loop:g}" if n_loop != N else "measured",
           "(c) adversarial generator step": "measured",
           "(d) discriminator epoch": f"EXTRAPOLATED from {steps}/{d_batches} batches x{d_batches / steps:.1f}"}
    rows = []
    for k, s in seconds.items():
        achieved = flops[k] / s / 1e9
        rows.append([k, f"{s:.3f}", spread[k], how[k], fmt_flops(flops[k]), f"{achieved:.1f}",
                     f"{100 * achieved / rate:.0f} %"])
    print_table(f"(a-e) seconds (median of {repeats}), FLOPs, achieved rate vs matmul {rate:.1f} GFLOP/s",
                ["piece", "seconds", "repeats' raw s (min-max)", "how", "FLOPs", "GFLOP/s", "of matmul"], rows)

    F = sum(disc.num_filters)
    print(f"  D forward per sequence {fmt_flops(d_seq)} = convolutions {fmt_flops(disc_conv_flops(dcfg, T))} "
          f"+ highway {fmt_flops(disc_highway_flops(dcfg))} + output {fmt_flops(2 * F * 2)}; "
          f"sampled token {fmt_flops(tok)}, cell-only step {fmt_flops(cell)}")
    print(f"  completions: (T-1)T/2 * N * B = {completion_tokens} sampled tokens; D scores "
          f"{(T - 1) * N * B + B} sequences (vectorised: D(Y) once) vs {N * T * B} (loop: D(Y) per rollout)")
    print(f"  generator step = sample B x T + vectorised rollout + 3 x forward over B x T; "
          f"D epoch = 3 x forward over {d_batches} x {B} sequences")
    print_table("  FLOPs by part", ["rollout", "part", "FLOPs"],
                [["vectorised", k, fmt_flops(v)] for k, v in f_vec.items()]
                + [["loop", k, fmt_flops(v)] for k, v in f_loop.items()])

    # vectorised vs loop ---------------------------------------------------------------------
    ratio_rows = [[f"N={N}", f"{t_vec.median:.3f}", f"{loop_s:.3f}" + (" (EXTRAPOLATED)" if n_loop != N else ""),
                   f"{loop_s / t_vec.median:.2f}x"],
                  [f"N={N}, vectorised with plain convolutions", f"{t_plain.median:.3f}",
                   f"{loop_s:.3f}", f"{loop_s / t_plain.median:.2f}x"]]
    if t_vec_small is not None:
        ratio_rows.append([f"N={n_loop} (both measured)", f"{t_vec_small.median:.3f}", f"{t_loop.median:.3f}",
                           f"{t_loop.median / t_vec_small.median:.2f}x"])
    print_table("(a) vs (b): rollout seconds, same run", ["rollouts", "vectorised s", "loop s", "loop / vectorised"],
                ratio_rows)

    plain_limit = n_scored * d_seq / (rate * 1e9)
    print(f"\nshared first-layer tables: D scoring {t_score_plain.median / t_score_tab.median:.2f}x faster than the "
          f"convolutions, rollout {t_plain.median / t_vec.median:.2f}x; the plain computation's FLOPs at the measured "
          f"matmul rate take {plain_limit:.2f} s, the shared-table scoring {t_score_tab.median:.2f} s "
          f"({plain_limit / t_score_tab.median:.2f}x past that limit)")

    # (f) against the original and TextGAN-PyTorch -------------------------------------------
    cmp_rows = []
    for key, name, ours in (("g_step", "adversarial generator step", t_pg.median),
                            ("d_epoch", "discriminator epoch (EXTRAPOLATED)", d_epoch_s)):
        cmp_rows.append([name, f"{ours:.3f}"] + compare_row("original (TF)", ORIGINAL[key], ours))
        cmp_rows.append(["", ""] + compare_row("TextGAN-PyTorch", TEXTGAN[key], ours))
    print_table("(f) against other implementations' times on this kind of machine",
                ["piece", "ours s", "reference", "ref s", "ours/ref", "speed-up"], cmp_rows)
    if quick:
        print("\n--quick: one repeat each, loop rollout and D epoch extrapolated; run without --quick for the figures.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
