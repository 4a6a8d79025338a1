"""LeakGAN's bootstrapped rescaled activation of the rewards (Guo et al. 2018; the authors'
Main.py `rescale` and `redistribution`).

Per column of a batch of B rewards (one column per window), the distinct values are numbered
idx = 1, 2, ... and a value becomes sigmoid(delta (idx / B - 1/2)); equal values share theirs.
With delta = 16 that is the authors' sigmoid(16 idx / B - 8). A column of B distinct rewards
always becomes the same B values, so only the order in which they are numbered matters:

    'rank'        idx is the value's rank, lowest first: the best sequence gets the largest
                  reward (the paper's intent; its formula sigma(delta (1/2 - rank / B)) counts
                  rank 1 as the best, one rank away from this)
    'first_seen'  idx is the order in which the values first occur in the batch, as a Python 3
                  dict iterates. The authors number the values in their dict's iteration order
                  (Python 2: the order of the float hashes); both are unrelated to the rewards'
                  ranking, so the rescaled rewards then tell the Manager nothing about D.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor


def dense_rank(x: Tensor) -> Tensor:
    """Per column of x (B, K): 1 for the smallest distinct value, 2 for the next, ...; equal
    values share their rank. -> (B, K) int64."""
    vals, order = x.sort(dim=0, stable=True)
    new = torch.ones_like(vals, dtype=torch.long)
    new[1:] = (vals[1:] != vals[:-1]).long()
    return torch.empty_like(order).scatter_(0, order, new.cumsum(0))


def first_seen_rank(x: Tensor) -> Tensor:
    """Per column of x (B, K): the distinct values numbered 1, 2, ... in the order of their first
    occurrence down the column; equal values share their number. -> (B, K) int64."""
    B = x.shape[0]
    vals, order = x.sort(dim=0, stable=True)
    new = torch.ones_like(vals, dtype=torch.bool)
    new[1:] = vals[1:] != vals[:-1]
    group = new.long().cumsum(0)  # (B, K) the group of each sorted entry
    # the first (smallest) row index of each group: the stable sort puts it at the group's head
    first = torch.full_like(order, B).scatter_reduce_(0, group - 1, order, "amin")  # (B, K), rows < groups used
    first_of = torch.empty_like(order).scatter_(0, order, first.gather(0, group - 1))  # each row's group's first row
    return dense_rank(first_of)


def rescale(q: Tensor, delta: float = 16.0, order: Literal["rank", "first_seen"] = "rank") -> Tensor:
    """The rescaled rewards sigmoid(delta (idx / B - 1/2)) of q (B, K), idx per `order` (see the module)."""
    B = q.shape[0]
    idx = dense_rank(q) if order == "rank" else first_seen_rank(q)
    return torch.sigmoid(delta * (idx.to(q.dtype) / B - 0.5))
