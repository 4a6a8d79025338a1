"""PG-BLEU's reward (reference §6): BLEU of each finished sequence against reference sequences."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from seqgan.metrics import References, Smoothing, sentence_bleus


class BLEUReward:
    """Sentence BLEU-`max_order` (uniform weights 1/max_order; nltk's `sentence_bleu`, computed
    exactly by `seqgan.metrics`) of each sequence against every reference. Sequences and
    references are token-id rows; with `eos` a row ends at its first <eos> (excluded), as the
    metrics read text.

    references: (R, T) int64 reference rows (PG-BLEU: a random 40 % of the real data).
    smoothing: "method1" (`SmoothingFunction().method1`, as the evaluation's BLEU) or "none"
        (nltk's unsmoothed default, as the authors' pg_bleu/rollout.py calls it).
    """

    def __init__(self, references: Tensor, max_order: int = 3, eos: Optional[int] = None,
                 smoothing: Smoothing = "method1") -> None:
        if smoothing not in ("method1", "none"):
            raise ValueError(f"smoothing={smoothing!r} must be 'method1' or 'none'")
        self.max_order, self.eos, self.smoothing = max_order, eos, smoothing
        self.references = References(self._rows(references), max_order)

    def _rows(self, x: Tensor) -> list[Sequence[int]]:
        rows = x.tolist()
        if self.eos is None:
            return rows
        return [r[: r.index(self.eos)] if self.eos in r else r for r in rows]

    @torch.no_grad()
    def __call__(self, sequences: Tensor) -> Tensor:
        scores = sentence_bleus(self._rows(sequences), self.references, self.max_order, self.smoothing)
        return torch.tensor(scores, dtype=torch.float32, device=sequences.device)
