"""The reward interface."""

from __future__ import annotations

from typing import Optional, Protocol, runtime_checkable

from torch import Tensor


class Reward(Protocol):
    """Scores finished sequences: (M, T) int64 token ids -> (M,) float32 rewards, no autograd.
    Variable-length sequences are padded after their <eos>."""

    def __call__(self, sequences: Tensor) -> Tensor:
        ...


@runtime_checkable
class GroupedReward(Protocol):
    """A reward whose score of a row also depends on the other rows of the batch it was drawn in
    (ORGAN's duplicate penalty). `grouped(sequences, groups)`: groups (M,) int64 names each row's
    batch (the rollouts give each rollout column its own); None: all rows are one batch, as
    `__call__` scores them."""

    def __call__(self, sequences: Tensor) -> Tensor:
        ...

    def grouped(self, sequences: Tensor, groups: Optional[Tensor]) -> Tensor:
        ...


def score(reward: Reward, sequences: Tensor, groups: Optional[Tensor]) -> Tensor:
    """reward's scores of `sequences` (M, T), rows in the batches `groups` (M,) names, for the
    rewards that care (`GroupedReward`); every other reward scores the rows alone."""
    if isinstance(reward, GroupedReward):
        return reward.grouped(sequences, groups)
    return reward(sequences)
