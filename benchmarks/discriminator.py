"""Benchmark: the discriminator's training step, the piece that is 96 % of the `paper` schedule.

At the paper's sizes (batch 64, length 20, the 1,720-filter discriminator with its highway),
one training step (`train.discriminator.discriminator_epoch`'s per-batch work: forward with
dropout, loss, backward, fused Adam) in four variants, timed in interleaved rounds in one
process so that machine drift hits them alike:

- plain fp32: the convolutions' backward through autograd (dense: every window gets a gradient);
- sparse fp32 (the default): `seqgan.ops.conv_maxpool`, whose backward uses the max-pool's
  sparsity (only the arg-max window of each filter gets a gradient);
- plain bf16 and sparse bf16: the same under CPU bfloat16 autocast (`train.precision=bf16`),
  where the CPU has a bfloat16 fast path.

Reported: milliseconds per step (median over rounds), the epoch of 19,968 sequences (312
steps) that implies, and the rate of the plain computation's FLOPs (3 x the forward: the
exact rewrite does less work, so it can pass the matmul rate) as a fraction of this process's
fp32 2048^3 matmul rate. Also the gradients of the two paths compared, to show they agree.

    python benchmarks/discriminator.py [--threads N] [--quick] [--rounds R]
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import torch
import torch.nn.functional as F

from common import disc_seq_flops, make_parser, matmul_gflops, paper_config, print_table, setup

import seqgan.models.discriminator as dm
from seqgan.losses import discriminator_loss
from seqgan.models import Discriminator
from seqgan.perf import cpu_bf16_fast_path
from seqgan.train.run import make_adam

B, T = 64, 20
EPOCH_STEPS = 312  # 19,968 sequences


def plain_conv(emb: torch.Tensor, ws: list[torch.Tensor], bs: list[torch.Tensor]) -> torch.Tensor:
    """The convolution stage through autograd: conv1d, ReLU, max over time."""
    e = emb.transpose(1, 2)
    return torch.cat([F.conv1d(e, w, b).relu_().amax(dim=2) for w, b in zip(ws, bs)], 1)


def main(argv: list[str] | None = None) -> int:
    p = make_parser((__doc__ or "").split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    args = p.parse_args(argv)
    setup(args)
    steps = 5 if args.quick else 30
    rounds = 2 if args.quick else args.rounds
    cfg = paper_config()
    disc = Discriminator(cfg.discriminator, cfg.generator.vocab_size, T, torch.Generator().manual_seed(0))
    opt = make_adam(disc, cfg.discriminator.lr)
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, cfg.generator.vocab_size, (B, T), generator=g)
    y = torch.randint(0, 2, (B,), generator=g)
    sparse_conv = dm.conv_maxpool

    def step(bf16: bool) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = disc(x, dropout_generator=g)
        loss = discriminator_loss(disc, logits.float(), y, cfg.discriminator.l2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    variants: dict[str, tuple[Callable, bool]] = {
        "plain fp32": (plain_conv, False),
        "sparse fp32": (sparse_conv, False),
    }
    fast_bf16 = cpu_bf16_fast_path()
    if fast_bf16:
        variants.update({"plain bf16": (plain_conv, True), "sparse bf16": (sparse_conv, True)})
    else:
        print("no bfloat16 fast path on this CPU: bf16 variants skipped")

    # the two paths' gradients on one batch
    grads = {}
    for name, conv in (("plain", plain_conv), ("sparse", sparse_conv)):
        dm.conv_maxpool = conv
        disc.zero_grad(set_to_none=True)
        disc.eval()
        discriminator_loss(disc, disc(x), y, 0.2).backward()
        grads[name] = [q.grad.clone() for q in disc.parameters()]
    disc.train()
    err = max(
        float((a - b).abs().max() / b.abs().max().clamp(min=1e-30)) for a, b in zip(grads["sparse"], grads["plain"])
    )
    print(f"largest gradient difference, sparse vs plain, relative to the tensor's largest: {err:.1e}")

    rate0 = matmul_gflops()
    ms: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, (conv, bf16) in variants.items():
            dm.conv_maxpool = conv
            for _ in range(2):
                step(bf16)
            t0 = time.perf_counter()
            for _ in range(steps):
                step(bf16)
            ms[name].append((time.perf_counter() - t0) / steps * 1000)
    dm.conv_maxpool = sparse_conv
    rate1 = matmul_gflops()
    rate = (rate0 + rate1) / 2
    flops = 3 * B * disc_seq_flops(cfg.discriminator, T)
    print(f"fp32 matmul 2048^3: {rate0:.0f} GFLOP/s at start, {rate1:.0f} at end; rates below use {rate:.0f}")
    rows = []
    base = statistics.median(ms["plain fp32"])
    for name, v in ms.items():
        m = statistics.median(v)
        gf = flops / (m / 1000) / 1e9
        rows.append([name, f"{m:.1f}", f"{min(v):.1f}-{max(v):.1f}", f"{m * EPOCH_STEPS / 1000:.1f}",
                     f"{gf:.0f}", f"{100 * gf / rate:.0f} %", f"{base / m:.2f}x"])
    print_table(f"discriminator training step, batch {B} x {T} ({flops / 1e9:.2f} GFLOP of the plain computation), "
                f"{rounds} interleaved rounds of {steps} steps",
                ["variant", "ms/step", "spread", "s/epoch", "GFLOP/s", "of fp32 matmul", "vs plain fp32"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
