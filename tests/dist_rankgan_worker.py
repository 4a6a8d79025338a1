"""Worker for test_rankgan.py, run under torchrun: one ranker step on this rank's half of a fixed
batch's real and generated rows, with the same references; rank 0 saves the parameters."""

from __future__ import annotations

import sys

import torch
from safetensors.torch import save_file

from seqgan import distributed
from seqgan.config import DiscriminatorConfig
from seqgan.methods.rankgan import ranker_step
from seqgan.models.ranker import Ranker
from seqgan.plan import make_adam


def fixed_problem():
    ranker = Ranker(DiscriminatorConfig(emb_dim=5, filter_sizes=[1, 2, 3], num_filters=[4, 4, 4]), 20, 6, 1.5,
                    torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    real, fake, refs = (torch.randint(0, 20, (n, 6), generator=g) for n in (8, 8, 3))
    return ranker, real, fake, refs


if __name__ == "__main__":
    out_path = sys.argv[1]
    world, _ = distributed.init("cpu")
    ranker, real, fake, refs = fixed_problem()
    sl = slice(world.rank * 4, (world.rank + 1) * 4)
    ranker_step(ranker, torch.nn.parallel.DistributedDataParallel(ranker), make_adam(ranker, 0.01), real[sl],
                fake[sl], refs)
    if world.is_main:
        save_file({k: v.detach().clone() for k, v in ranker.state_dict().items()}, out_path)
    distributed.shutdown()
