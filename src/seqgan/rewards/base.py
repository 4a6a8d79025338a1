"""The reward interface."""

from __future__ import annotations

from typing import Protocol

from torch import Tensor


class Reward(Protocol):
    """Scores finished sequences: (M, T) int64 token ids -> (M,) float32 rewards, no autograd.
    Variable-length sequences are padded after their <eos>."""

    def __call__(self, sequences: Tensor) -> Tensor:
        ...
