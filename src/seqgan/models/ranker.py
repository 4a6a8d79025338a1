"""RankGAN's ranker (Lin et al. 2017): a CNN sentence encoder whose features are compared by
cosine with reference sentences, and a softmax over a comparison set.

Notation: M sequences ranked, U references, C comparison set, F features.

    y = encoder(x)                 the paper's CNN (section `discriminator`: conv + max-pool + highway),
                                   without its output layer
    alpha(s | u) = cos(y_s, y_u)
    P(s | u, C') = exp(gamma alpha(s | u)) / sum_{s' in C'} exp(gamma alpha(s' | u)),   C' = C + {s}
    log R(s | U, C) = mean_{u in U} log P(s | u, C')
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.config import DiscriminatorConfig
from seqgan.models.discriminator import Discriminator


def log_rank_score(s: Tensor, u: Tensor, c: Tensor, gamma: float) -> Tensor:
    """log R(s | U, C) for features s (M, F), references u (U, F), comparison set c (C, F) -> (M,).
    Each s is ranked against C plus itself: log P = g_s - log(exp(g_s) + sum_c exp(g_c))."""
    un = F.normalize(u, dim=1)
    gs = gamma * F.normalize(s, dim=1) @ un.T  # (M, U)
    gc = gamma * F.normalize(c, dim=1) @ un.T  # (C, U)
    lse_c = torch.logsumexp(gc, 0)  # (U,)
    return (gs - torch.logaddexp(gs, lse_c[None, :])).mean(1)  # (M,)


class Ranker(nn.Module):
    """The encoder; `forward(x)` gives features (B, F) (what DistributedDataParallel wraps)."""

    def __init__(self, cfg: DiscriminatorConfig, vocab_size: int, seq_len: int, gamma: float,
                 generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        self.encoder = Discriminator(cfg, vocab_size, seq_len, generator)
        self.encoder.out_w.requires_grad_(False)  # the classifier head is not part of a ranker
        self.encoder.out_b.requires_grad_(False)
        self.gamma = gamma

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder.features(x)  # (B, F)

    @torch.no_grad()
    def encode(self, x: Tensor, chunk: int = 4096) -> Tensor:
        """Features (M, F) without autograd, in chunks, through the shared first-layer tables
        (exact; `Discriminator.conv_tables`)."""
        tables = self.encoder.conv_tables() if x.shape[0] >= 1024 else None
        return torch.cat([self.encoder.features(x[lo:lo + chunk], tables) for lo in range(0, x.shape[0], chunk)])

    def loss(self, feats_real: Tensor, feats_fake: Tensor, feats_ref: Tensor) -> Tensor:
        """-E_real log R(s | U, C-) - E_fake log(1 - R(s | U, C+)): real sequences ranked among the
        generated ones (C-) should score high, generated among the real (C+) low."""
        real = log_rank_score(feats_real, feats_ref, feats_fake, self.gamma)  # (h,)
        fake = log_rank_score(feats_fake, feats_ref, feats_real, self.gamma)  # (h,)
        return -(real.mean() + torch.log(-torch.expm1(fake)).mean())
