"""The three losses, as pure functions (reference §2-3)."""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from seqgan.models.discriminator import Discriminator


def mle_loss(log_probs: Tensor, mask: Optional[Tensor] = None, count: Optional[Tensor] = None) -> Tensor:
    """Mean per-token negative log-likelihood. log_probs (B, T) -> scalar.
    mask (B, T) bool: only those positions count (padding after <eos> is never trained on);
    count: what to divide by (default: the masked positions; under torchrun the global count / K)."""
    if mask is None:
        return -log_probs.mean()
    return -(log_probs * mask).sum() / (mask.sum().clamp(min=1) if count is None else count)


def pg_loss(log_probs: Tensor, rewards: Tensor, baseline: str = "none", reduction: str = "sum",
            mask: Optional[Tensor] = None) -> Tensor:
    """SeqGAN policy-gradient loss  L = - sum_{b,t} log G(y_t | y_<t) * Q[b, t].

    Args:
        log_probs: (B, T) log-probabilities of the sampled tokens (teacher-forced, with grad).
        rewards: (B, T) Q values (no grad).
        baseline: 'none' (the paper) or 'mean' (subtract the batch mean of Q per time step).
        reduction: 'sum' over batch and time (the paper) or 'mean'.
        mask: (B, T) bool, variable length: positions after <eos> carry no reward and no
            gradient; the 'mean' baseline and reduction count the owned positions only.
    """
    q = rewards.detach()
    if baseline == "mean":
        if mask is None:
            q = q - q.mean(dim=0, keepdim=True)
        else:
            q = q - (q * mask).sum(0, keepdim=True) / mask.sum(0, keepdim=True).clamp(min=1)
    elif baseline != "none":
        raise ValueError(f"reward baseline must be 'none' or 'mean', got {baseline!r}")
    per_token = -log_probs * q  # (B, T)
    if mask is not None:
        per_token = per_token * mask
    if reduction == "sum":
        return per_token.sum()
    if reduction == "mean":
        return per_token.mean() if mask is None else per_token.sum() / mask.sum().clamp(min=1)
    raise ValueError(f"loss reduction must be 'sum' or 'mean', got {reduction!r}")


def discriminator_loss(disc: Discriminator, logits: Tensor, labels: Tensor, l2: float) -> Tensor:
    """Mean cross-entropy (class 1 = real) + l2 * (sum(W_out^2)/2 + sum(b_out^2)/2)."""
    return F.cross_entropy(logits, labels) + l2 * disc.l2_penalty()
