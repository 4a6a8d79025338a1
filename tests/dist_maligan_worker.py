"""Worker for test_maligan.py, run under torchrun: one MaliGAN update on this rank's half (two whole
groups) of a fixed global batch with fixed discriminator outputs; rank 0 saves the parameters."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from types import SimpleNamespace

import torch
from safetensors.torch import save_file

from seqgan import distributed
from seqgan.config import GeneratorConfig, Sizes, load_config
from seqgan.methods.maligan import maligan_update
from seqgan.models import build_generator
from seqgan.plan import make_adam


def fixed_problem():
    gen = build_generator(GeneratorConfig(vocab_size=20, emb_dim=6, hidden_dim=5, seq_len=6, init_std=0.5),
                          torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(2)
    Y = torch.randint(0, 20, (8, 6), generator=g)  # the global batch: 4 groups of m = 2
    d = torch.rand(8, generator=g) * 0.9 + 0.05  # fixed discriminator outputs
    return gen, Y, d


def maligan_run(gen, model, world):
    """What maligan_update reads of a run."""
    cfg = load_config(None, ["maligan.samples_per_prefix=2"])
    return SimpleNamespace(cfg=cfg, world=world, gen=gen, optimizers={"pg": make_adam(gen, 0.01)},
                           autocast=nullcontext, trained=lambda name: model, sizes=Sizes(20, 6))


if __name__ == "__main__":
    out_path, N = sys.argv[1], int(sys.argv[2])
    world, _ = distributed.init("cpu")
    gen, Y, d = fixed_problem()
    sl = slice(world.rank * 4, (world.rank + 1) * 4)
    maligan_update(maligan_run(gen, torch.nn.parallel.DistributedDataParallel(gen), world), Y[sl], d[sl], N)
    if world.is_main:
        save_file({k: v.detach().clone() for k, v in gen.state_dict().items()}, out_path)
    distributed.shutdown()
