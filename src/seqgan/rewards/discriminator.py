"""SeqGAN's reward: the discriminator's probability that a sequence is real (reference §3)."""

from __future__ import annotations

from contextlib import nullcontext

import torch
from torch import Tensor

from seqgan.models.discriminator import Discriminator
from seqgan.perf import Autocast


class DiscriminatorReward:
    """D(Y) = softmax(D's logits)[:, 1], without dropout, with D's current weights.

    chunk: sequences per forward pass (0: sized by the device, `Discriminator.auto_score_chunk`);
    tables: score large batches (a generator step's completions) through D's shared first-layer
    tables (exact, `Discriminator.conv_tables`); false: plain convolutions always;
    autocast: the context of the scoring passes (`train.precision`).
    """

    def __init__(self, disc: Discriminator, chunk: int = 0, tables: bool = True,
                 autocast: Autocast = nullcontext) -> None:
        self.disc, self.chunk, self.tables, self.autocast = disc, chunk, tables, autocast

    @torch.no_grad()
    def __call__(self, sequences: Tensor) -> Tensor:
        with self.autocast():
            return self.disc.prob_real(
                sequences, chunk=self.chunk, shared_tables=None if self.tables else False
            ).float()
