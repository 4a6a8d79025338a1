"""Worker for test_distributed.py, run under torchrun: one MLE step and one PG step on this
rank's half of a fixed global batch; rank 0 saves the parameters after each step."""

from __future__ import annotations

import sys

import torch
from safetensors.torch import save_file

from seqgan import distributed
from seqgan.config import GeneratorConfig, Sizes
from seqgan.policies import Policy
from seqgan.models import build_generator
from seqgan.train.adversarial import pg_update
from seqgan.train.mle import mle_epoch
from seqgan.train.run import make_adam


def fixed_problem(varlen: bool = False) -> tuple[Policy, torch.Tensor, torch.Tensor, torch.Tensor]:
    """varlen: sequences end at <eos> (2) at random places, <pad> (0) after it, and the two
    halves of each batch hold different numbers of tokens."""
    cfg = GeneratorConfig(vocab_size=30, emb_dim=6, hidden_dim=5, seq_len=6, init_std=0.5)
    gen = build_generator(cfg, torch.Generator().manual_seed(0), Sizes(30, 6, 1, 2) if varlen else None)
    g = torch.Generator().manual_seed(1)
    X = torch.randint(0, 30, (8, 6), generator=g)  # the global MLE batch
    Y = torch.randint(0, 30, (8, 6), generator=g)  # the global PG batch
    Q = torch.rand(8, 6, generator=g)  # its rewards
    if varlen:
        def ends(z: torch.Tensor, lengths: list[int]) -> torch.Tensor:
            z = z.clamp(min=3)
            for row, n in zip(z, lengths):
                if n < 6:
                    row[n], row[n + 1:] = 2, 0
            return z
        X = ends(X, [1, 5, 2, 6, 0, 3, 3, 1])
        Y = ends(Y, [4, 6, 2, 2, 5, 0, 1, 3])
        Q = Q * gen.mask(Y)
    return gen, X, Y, Q


def steps(gen: torch.nn.Module, model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor, Q: torch.Tensor,
          baseline: str, reduction: str, world: distributed.World) -> dict[str, torch.Tensor]:
    out = {}
    lm = gen if isinstance(gen, Policy) else None
    mle_epoch(model, make_adam(gen, 0.01), X, X.shape[0], 5.0, world, lm)  # one step: the batch is the whole shard
    out.update({f"mle.{k}": v.detach().clone() for k, v in gen.state_dict().items()})
    pg_update(model, make_adam(gen, 0.01), Y, Q, baseline, reduction, 5.0, world, lm)
    out.update({f"pg.{k}": v.detach().clone() for k, v in gen.state_dict().items()})
    return out


if __name__ == "__main__":
    out_path, baseline, reduction = sys.argv[1], sys.argv[2], sys.argv[3]
    world, _ = distributed.init("cpu")
    gen, X, Y, Q = fixed_problem(varlen=sys.argv[4:] == ["varlen"])
    b = X.shape[0] // world.size
    sl = slice(world.rank * b, (world.rank + 1) * b)
    model = torch.nn.parallel.DistributedDataParallel(gen)
    result = steps(gen, model, X[sl], Y[sl], Q[sl], baseline, reduction, world)
    if world.is_main:
        save_file(result, out_path)
    distributed.shutdown()
