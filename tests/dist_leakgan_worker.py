"""Worker for test_leakgan.py, run under torchrun: for each problem (weighting, fixed or variable
length), one LeakGAN adversarial update on this rank's half of a fixed global batch with fixed
window rewards (ranked over the whole batch) and the leaked features of the shared discriminator;
rank 0 saves the generator's parameters and the global losses."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from types import SimpleNamespace

import torch
from safetensors.torch import save_file

from seqgan import distributed
from seqgan.config import DiscriminatorConfig, load_config
from seqgan.methods.leakgan import leak_update, loss_weights, rescaled_rewards
from seqgan.models.discriminator import PaddedDiscriminator
from seqgan.plan import make_adam
from seqgan.policies.leakgan import build_leakgan_policy


#: (name, weighting, variable length)
PROBLEMS = [("scalar", "scalar", False), ("per_element", "per_element", False), ("scalar_eos", "scalar", True)]


def fixed_problem(weighting: str, eos: bool = False):
    disc = PaddedDiscriminator(DiscriminatorConfig(emb_dim=5, filter_sizes=[1, 2, 3], num_filters=[4, 3, 2],
                                                   dropout_keep=1.0), 20, 8, torch.Generator().manual_seed(1))
    tokens = {"start_token": 1, "eos_token": 2} if eos else {}
    gen = build_leakgan_policy(20, 6, 5, 8, disc, 3, 3, 1, 0.5, torch.Generator().manual_seed(0), **tokens)
    g = torch.Generator().manual_seed(2)
    Y = torch.randint(3, 20, (8, 8), generator=g)  # the global batch
    if eos:  # rank 0's rows end early, rank 1's late: <eos>, then <pad>
        for row, end in enumerate([1, 2, 3, 2, 7, 5, 8, 6]):
            if end < 8:
                Y[row, end], Y[row, end + 1:] = 2, 0
    q = torch.rand(8, gen.windows, generator=g)  # fixed window rewards
    cfg = load_config(None, ["method=leakgan", f"leakgan.weighting={weighting}", "train.grad_clip=0.05"])
    return gen, Y, q, cfg


def one_update(gen, model, Y, q, cfg, world):
    """What a g-step does after its rollouts: rescale over the global batch, weights, one update."""
    c = cfg.section("leakgan")
    R = rescaled_rewards(q, c, world)
    f = gen.leak_prefixes(Y, gen.seq_len)
    wk, mk, _ = loss_weights(gen, Y, f, R, c.weighting, world)
    run = SimpleNamespace(gen=gen, cfg=cfg, world=world, optimizers={"pg": make_adam(gen, 0.01)},
                          trained=lambda name: model, autocast=nullcontext)
    return leak_update(run, "pg", Y, f, wk, mk)


if __name__ == "__main__":
    out_path = sys.argv[1]
    world, _ = distributed.init("cpu")
    saved = {}
    for name, weighting, eos in PROBLEMS:
        gen, Y, q, cfg = fixed_problem(weighting, eos)
        sl = slice(world.rank * 4, (world.rank + 1) * 4)
        losses = distributed.all_reduce_sum(one_update(gen, torch.nn.parallel.DistributedDataParallel(gen), Y[sl],
                                                       q[sl], cfg, world), world)
        saved.update({f"{name}.{k}": v.detach().clone() for k, v in gen.state_dict().items()})
        saved[f"{name}.losses"] = losses[:2].clone()
    if world.is_main:
        save_file(saved, out_path)
    distributed.shutdown()
