"""Worker for test_relgan.py, run under torchrun: one generator update and one discriminator update of
RelGAN on this rank's half of a fixed batch (real rows, generated rows and their Gumbel noise);
rank 0 saves both models' parameters."""

from __future__ import annotations

import sys

import torch
from safetensors.torch import save_file

from seqgan import distributed
from seqgan.config import GeneratorConfig
from seqgan.methods.relgan import discriminator_update, generator_update
from seqgan.models import build_generator
from seqgan.models.relgan_discriminator import RelGANDiscriminator
from seqgan.policies.gumbel import gumbel_sample, relax

BETA = 3.0


def fixed_problem():
    gen = build_generator(GeneratorConfig(kind="rmc", vocab_size=12, emb_dim=4, seq_len=6, mem_slots=1,
                                          num_heads=2, head_size=3), torch.Generator().manual_seed(1))
    D = RelGANDiscriminator(12, 6, 8, 4, [2, 3], [5, 4], 1.0, 6, torch.Generator().manual_seed(2))
    real = torch.randint(0, 12, (8, 6), generator=torch.Generator().manual_seed(3))
    Y, g, _ = gumbel_sample(gen, 8, torch.Generator().manual_seed(4))
    return gen, D, real, Y, g


def updates(gen_model, gen, d_model, D, real, Y, g, beta):
    """The generator update on (real, Y, g), then the discriminator update on real and a relaxed batch
    of the updated generator (the same noise), each with plain SGD (lr 0.1), whose step shows the
    gradient itself (Adam would blow float noise up to full steps where a gradient is exactly 0
    in exact arithmetic, as for the bias of the keys' layer norm: softmax ignores it); the
    generator's clip (0.005, below the norm 0.012) binds, so its global norm is the whole batch's."""
    generator_update(gen_model, gen, D, torch.optim.SGD(gen.parameters(), lr=0.1), real, Y, g, beta, "gumbel", 0.005)
    with torch.no_grad():
        fake = relax(gen, Y, g, beta)
    discriminator_update(d_model, D, torch.optim.SGD(D.parameters(), lr=0.1), real, fake, 5.0)


if __name__ == "__main__":
    out_path = sys.argv[1]
    world, _ = distributed.init("cpu")
    gen, D, real, Y, g = fixed_problem()
    sl = slice(world.rank * 4, (world.rank + 1) * 4)
    DDP = torch.nn.parallel.DistributedDataParallel
    updates(DDP(gen), gen, DDP(D), D, real[sl], Y[sl], g[sl], BETA)
    if world.is_main:
        save_file({**{f"g.{k}": v.detach().clone() for k, v in gen.state_dict().items()},
                   **{f"d.{k}": v.detach().clone() for k, v in D.state_dict().items()}}, out_path)
    distributed.shutdown()
