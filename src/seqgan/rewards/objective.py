"""ORGAN's reward (Guimaraes et al. 2017, arXiv 1705.10843): the critic's score mixed with your
own objective (`reward.objective`, loaded by `seqgan.objective`).

For a batch of finished sequences Y_1..Y_M, a critic C (the discriminator's D, BLEU, the
ranker's score, or a `reward.kind` control), an objective O and lambda = `reward.mix`:

    R(Y_i) = lambda C(Y_i) + (1 - lambda) O(Y_i) w_i

    w_i = 1                           duplicate_penalty 'none'
    w_i = 1 / c_i                     'count'
    w_i = (u / m) / c_i               'organ' (ORGAN's code)

with c_i the count of Y_i among the m rows of its batch and u the batch's distinct rows. The
batch is the reward call's (the g-step's sampled batch), or with `grouped` each group's (the
rollouts pass each rollout column as a group, as ORGAN's rollout scores column by column).
lambda = 1 is SeqGAN: the method uses its critic alone and this class is not built; lambda = 0
is the objective alone (no critic, none trained).

O sees each distinct row of a call once: the rows are deduplicated (torch.unique over rows),
decoded (`decode`: text on your data, the token-id list in the oracle task), scored in one
call of the function, and the scores scattered back to every copy.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor

from seqgan.objective import Objective
from seqgan.rewards.base import Reward


def duplicate_weights(rows: Tensor, groups: Optional[Tensor], penalty: str) -> Tensor:
    """w (M,) float32 of ORGAN's duplicate penalty for M rows, equal sequences sharing one id in
    `rows` (M,) int64 (`torch.unique(sequences, dim=0, return_inverse=True)[1]`), in the batches
    `groups` (M,) (None: one batch): 1 / c_i ('count'), (u_g / m_g) / c_i ('organ': u_g distinct
    rows among the m_g of row i's batch g), or 1 ('none')."""
    M = rows.shape[0]
    if penalty == "none" or M == 0:
        return torch.ones(M, device=rows.device)
    g = (torch.zeros(M, dtype=torch.long, device=rows.device) if groups is None
         else torch.unique(groups, return_inverse=True)[1])  # (M,) batch ids 0..G-1
    keys, key_of, counts = torch.unique(g * M + rows, return_inverse=True, return_counts=True)  # (batch, row) pairs
    w = 1.0 / counts[key_of].float()  # (M,) 1 / c_i
    if penalty == "organ":
        G = int(g.max()) + 1
        distinct = torch.bincount(keys // M, minlength=G).float()  # (G,) u_g
        size = torch.bincount(g, minlength=G).float()  # (G,) m_g
        w = w * (distinct / size)[g]
    return w


class ObjectiveReward:
    """R = mix * critic + (1 - mix) * objective * duplicate weight (module docstring).

    objective: the loaded function (`seqgan.objective.load_objective`), checked on every call.
    decode: a row of token ids (list) -> what the function receives for it.
    mix: lambda in [0, 1); critic: the method's reward, None when mix = 0.
    penalty: `reward.duplicate_penalty` ('organ', 'count' or 'none').
    """

    def __init__(self, objective: Objective, decode: Callable[[list[int]], Any], mix: float = 0.0,
                 critic: Optional[Reward] = None, penalty: str = "organ") -> None:
        if not 0.0 <= mix < 1.0:
            raise ValueError(f"mix={mix} must be in [0, 1) (1: the critic alone, no ObjectiveReward)")
        if (critic is None) != (mix == 0.0):
            raise ValueError("a critic is needed exactly when mix > 0")
        self.objective, self.decode, self.mix, self.critic, self.penalty = objective, decode, mix, critic, penalty
        self.sampled_mean: Optional[float] = None
        """The objective's mean (before penalty and mix) over the last batch scored as one batch
        (a g-step's sampled sequences): the `objective_mean` the g-step logs."""

    @torch.no_grad()
    def objective_scores(self, sequences: Tensor) -> tuple[Tensor, Tensor]:
        """O (M,) float32 of rows `sequences` (M, T), each distinct row decoded and scored once,
        and the rows' ids (M,) (equal rows, equal ids)."""
        distinct, inverse = torch.unique(sequences, dim=0, return_inverse=True)  # (U, T), (M,)
        if distinct.shape[0] == 0:
            return torch.zeros(0, device=sequences.device), inverse
        values = self.objective([self.decode(row) for row in distinct.tolist()])  # (U,) float64, checked
        return torch.as_tensor(values, dtype=torch.float32, device=sequences.device)[inverse], inverse

    @torch.no_grad()
    def grouped(self, sequences: Tensor, groups: Optional[Tensor]) -> Tensor:
        o, rows = self.objective_scores(sequences)  # (M,), (M,)
        if groups is None and o.numel():
            self.sampled_mean = float(o.mean())
        r = (1.0 - self.mix) * o * duplicate_weights(rows, groups, self.penalty)
        if self.critic is not None:
            r = r + self.mix * self.critic(sequences).float()
        return r

    def __call__(self, sequences: Tensor) -> Tensor:
        return self.grouped(sequences, None)
