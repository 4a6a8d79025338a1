"""The three losses, as pure functions (reference §2-3)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from seqgan.models.discriminator import Discriminator


def mle_loss(log_probs: Tensor) -> Tensor:
    """Mean per-token negative log-likelihood. log_probs (B, T) -> scalar."""
    return -log_probs.mean()


def pg_loss(log_probs: Tensor, rewards: Tensor, baseline: str = "none", reduction: str = "sum") -> Tensor:
    """SeqGAN policy-gradient loss  L = - sum_{b,t} log G(y_t | y_<t) * Q[b, t].

    Args:
        log_probs: (B, T) log-probabilities of the sampled tokens (teacher-forced, with grad).
        rewards: (B, T) Q values (no grad).
        baseline: 'none' (the paper) or 'mean' (subtract the batch mean of Q per time step).
        reduction: 'sum' over batch and time (the paper) or 'mean'.
    """
    q = rewards.detach()
    if baseline == "mean":
        q = q - q.mean(dim=0, keepdim=True)
    elif baseline != "none":
        raise ValueError(f"reward baseline must be 'none' or 'mean', got {baseline!r}")
    per_token = -log_probs * q  # (B, T)
    if reduction == "sum":
        return per_token.sum()
    if reduction == "mean":
        return per_token.mean()
    raise ValueError(f"loss reduction must be 'sum' or 'mean', got {reduction!r}")


def discriminator_loss(disc: Discriminator, logits: Tensor, labels: Tensor, l2: float) -> Tensor:
    """Mean cross-entropy (class 1 = real) + l2 * (sum(W_out^2)/2 + sum(b_out^2)/2)."""
    return F.cross_entropy(logits, labels) + l2 * disc.l2_penalty()
