"""Benchmark: the generator kinds (`generator.kind`: lstm, gru, transformer) at comparable
parameter counts, on the oracle task's sizes (V 5000, T 20, batch 64): parameters, seconds
per MLE epoch (156 batches), per sampling of 9,984 sequences, and per adversarial generator
step (sample, rollouts with N = 16 scored by the paper's discriminator, policy gradient).
The kinds run interleaved in rounds; medians are reported.

    python benchmarks/kinds.py [--threads N] [--quick] [--rounds R]
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from common import make_parser, paper_config, print_table, setup

from seqgan.models import Discriminator, build_generator
from seqgan.rewards import DiscriminatorReward
from seqgan.train.adversarial import pg_step
from seqgan.train.mle import mle_epoch
from seqgan.train.run import make_adam

#: kind -> generator overrides: the LSTM of the paper (32/32), a GRU of the same sizes, and a
#: Transformer of width 32, 2 layers, 2 heads, MLP 64 (close in parameters: the 5,000-token
#: embedding and output layer dominate all three)
KINDS = {"lstm": {}, "gru": {"kind": "gru"},
         "transformer": {"kind": "transformer", "hidden_dim": 64, "num_layers": 2, "num_heads": 2}}


def main(argv: list[str] | None = None) -> int:
    p = make_parser((__doc__ or "").split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    setup(args)
    cfg = paper_config()
    rounds = 1 if args.quick else args.rounds
    rng = torch.Generator().manual_seed(0)
    real = torch.randint(0, 5000, (9984 if not args.quick else 1024, 20), generator=rng)
    disc = Discriminator(cfg.discriminator, 5000, 20, torch.Generator().manual_seed(1))
    reward = DiscriminatorReward(disc)
    gens = {k: build_generator(cfg.generator.model_copy(update=o), torch.Generator().manual_seed(2))
            for k, o in KINDS.items()}
    opts = {k: (make_adam(g, 0.01), make_adam(g, 0.01)) for k, g in gens.items()}
    n_sample = 9984 if not args.quick else 1024
    acfg = cfg.adversarial.model_copy(update={"rollout_num": 16 if not args.quick else 2})
    times: dict[str, dict[str, list[float]]] = {k: {"mle": [], "sample": [], "g_step": []} for k in gens}
    for r in range(rounds + 1):  # round 0 is a burn-in
        for k, g in gens.items():
            for piece, fn in (("mle", lambda g=g, k=k: mle_epoch(g, opts[k][0], real, 64, 5.0)),
                              ("sample", lambda g=g: g.sample(n_sample, rng)),
                              ("g_step", lambda g=g, k=k: pg_step(g, g, reward, opts[k][1], acfg, 64, 5.0, rng))):
                t0 = time.perf_counter()
                fn()
                if r:
                    times[k][piece].append(time.perf_counter() - t0)
    rows = [[k, f"{g.num_parameters():,}", f"{statistics.median(times[k]['mle']):.2f}",
             f"{statistics.median(times[k]['sample']):.2f}", f"{statistics.median(times[k]['g_step']):.2f}"]
            for k, g in gens.items()]
    print_table(f"generator kinds, oracle sizes (V 5000, T 20, batch 64), medians of {rounds} rounds"
                + (" (QUICK: 1,024 sequences, N = 2)" if args.quick else ""),
                ["kind", "parameters", "MLE epoch s", f"sample {n_sample:,} s", "g-step s (N 16, paper D)"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
