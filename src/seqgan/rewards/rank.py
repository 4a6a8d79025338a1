"""RankGAN's reward: the expected log rank score of a sequence among real sequences."""

from __future__ import annotations

import torch
from torch import Tensor

from seqgan.models.ranker import Ranker, log_rank_score


class RankReward:
    """log R(Y | U, C) (`log=True`, the paper) or the mean rank probability (Texygen), of each
    sequence against references U and a comparison set C of real sequences; `draw` picks new U
    and C (every g-step)."""

    def __init__(self, ranker: Ranker, log: bool = True) -> None:
        self.ranker, self.log = ranker, log
        self.refs: Tensor | None = None
        self.comparison: Tensor | None = None

    @torch.no_grad()
    def draw(self, real: Tensor, num_refs: int, num_comparison: int, rng: torch.Generator) -> None:
        """Features of `num_refs` references and `num_comparison` comparison sequences, drawn from `real` (M, T)."""
        idx = torch.randint(real.shape[0], (num_refs + num_comparison,), generator=rng, device=rng.device)
        feats = self.ranker.encode(real[idx.to(real.device)])
        self.refs, self.comparison = feats[:num_refs], feats[num_refs:]

    @torch.no_grad()
    def __call__(self, sequences: Tensor) -> Tensor:
        assert self.refs is not None and self.comparison is not None, "RankReward.draw first"
        score = log_rank_score(self.ranker.encode(sequences), self.refs, self.comparison, self.ranker.gamma)
        return (score if self.log else score.exp()).float()
