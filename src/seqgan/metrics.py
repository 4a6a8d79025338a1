"""Evaluation metrics, pure functions named as in the paper."""

from __future__ import annotations

from typing import Optional

import torch

from seqgan.models.lstm import LSTMLM


@torch.no_grad()
def nll_oracle(generator: LSTMLM, oracle: LSTMLM, num_samples: int = 9984,
               rng: Optional[torch.Generator] = None) -> float:
    """NLL-oracle (reference §4): sample `num_samples` sequences from the generator and
    return the mean over all their tokens of -ln p_oracle(y_t | y_<t) (nats per token)."""
    samples = generator.sample(num_samples, rng)  # (num_samples, T)
    return oracle.nll(samples)
