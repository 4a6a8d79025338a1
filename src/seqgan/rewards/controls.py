"""The reward controls (`reward.kind`): a GAN's loop with its critic's score replaced by a
constant or by noise (LantaoYu/SeqGAN#21: a constant reward lowers NLL-oracle faster than the
discriminator's). With no baseline a positive reward raises the likelihood of the generator's
own samples, a self-sharpening that lowers NLL-oracle whatever the critic knows."""

from __future__ import annotations

import torch
from torch import Tensor


class ConstantReward:
    """Every sequence gets `value`."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, sequences: Tensor) -> Tensor:
        return torch.full((sequences.shape[0],), self.value, dtype=torch.float32, device=sequences.device)


class RandomReward:
    """Every sequence gets an independent U(0, 1) draw from `generator` (the run's stream, so
    that resumed runs repeat)."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def __call__(self, sequences: Tensor) -> Tensor:
        g = self.generator
        return torch.rand(sequences.shape[0], generator=g, device=g.device).to(sequences.device)
