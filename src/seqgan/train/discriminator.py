"""Discriminator training: one round = fresh generator negatives + the real set,
shuffled once, `epochs` passes in full batches (reference §1; the original's Dis_dataloader)."""

from __future__ import annotations

from dataclasses import dataclass
from contextlib import nullcontext
from typing import Optional

import torch
from torch import Tensor

from seqgan.distributed import SINGLE, World, all_reduce_sum
from seqgan.losses import discriminator_loss
from seqgan.models.discriminator import Discriminator
from seqgan.policies import Policy
from seqgan.perf import Autocast


@dataclass
class RoundStats:
    loss: float
    """Mean loss over the last epoch's batches (cross-entropy + L2 term)."""
    acc_real: float
    """Accuracy on the real sequences of the last epoch's batches (dropout on, as trained)."""
    acc_fake: float
    """Accuracy on the generated sequences of the last epoch's batches."""


def discriminator_epoch(model: torch.nn.Module, disc: Discriminator, opt: torch.optim.Optimizer, x: Tensor,
                        y: Tensor, batch_size: int, l2: float, rng: torch.Generator,
                        autocast: Autocast = nullcontext, label_smoothing: float = 0.0) -> Tensor:
    """One pass over (x, y) (N, T), (N,) in order, in full batches: forward with dropout drawn
    from `rng`, loss, backward, Adam step. `model` is `disc` or its DDP wrapper; `autocast`
    wraps the forward pass (`train.precision`), the loss is fp32.

    Returns the epoch's statistics on the device (no host sync):
    (5,) = [loss sum, correct on real, number real, correct on generated, number generated].
    """
    disc.train()
    stats = torch.zeros(5, device=x.device)
    for i in range(x.shape[0] // batch_size):
        xb, yb = x[i * batch_size:(i + 1) * batch_size], y[i * batch_size:(i + 1) * batch_size]
        with autocast():
            logits = model(xb, dropout_generator=rng)  # (B, 2)
        logits = logits.float()
        loss = discriminator_loss(disc, logits, yb, l2, label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            correct = (logits.argmax(1) == yb).float()
            is_real = yb.float()
            stats += torch.stack([loss.detach(), (correct * is_real).sum(), is_real.sum(),
                                  (correct * (1 - is_real)).sum(), (1 - is_real).sum()])
    return stats


def discriminator_round(disc: Discriminator, opt: torch.optim.Optimizer, gen: Policy, real: Tensor,
                        epochs: int, batch_size: int, l2: float, rng: torch.Generator,
                        num_samples: int = 0, model: Optional[torch.nn.Module] = None,
                        world: World = SINGLE, autocast: Autocast = nullcontext,
                        negatives: str = "round", label_smoothing: float = 0.0,
                        temperature: float = 1.0) -> RoundStats:
    """Sample as many negatives as real sequences from `gen`, then train `disc` for `epochs`
    passes. num_samples > 0 uses a random subset of that many real sequences (a departure
    from the original, which always uses the whole real set). negatives='fresh' samples new
    negatives (and reshuffles) for every epoch instead of reusing the round's. `temperature`:
    of the negatives' softmax (1: the generator's own distribution; LeakGAN's trick sharpens it).

    Under torchrun, `model` is disc's DistributedDataParallel wrapper and `real`,
    `num_samples`, `batch_size` are this rank's shares; the statistics are global.
    """
    model = model if model is not None else disc
    if 0 < num_samples < real.shape[0]:
        real = real[torch.randperm(real.shape[0], generator=rng, device=rng.device)[:num_samples].to(real.device)]
    num_batches = 2 * real.shape[0] // batch_size
    stats = torch.zeros(5, device=real.device)
    for epoch in range(epochs):
        if epoch == 0 or negatives == "fresh":
            fake = gen.sample(real.shape[0], rng, temperature=temperature)  # (M, T)
            x = torch.cat([real, fake], 0)  # (2M, T)
            y = torch.cat([torch.ones(real.shape[0], dtype=torch.long, device=x.device),
                           torch.zeros(fake.shape[0], dtype=torch.long, device=x.device)])  # 1 = real
            perm = torch.randperm(x.shape[0], generator=rng, device=rng.device).to(x.device)
            x, y = x[perm][: num_batches * batch_size], y[perm][: num_batches * batch_size]
        stats = discriminator_epoch(model, disc, opt, x, y, batch_size, l2, rng, autocast,
                                    label_smoothing)  # the last epoch's
    s = all_reduce_sum(stats, world).tolist()
    num_batches *= world.size
    return RoundStats(loss=s[0] / max(num_batches, 1), acc_real=s[1] / max(s[2], 1), acc_fake=s[3] / max(s[4], 1))
