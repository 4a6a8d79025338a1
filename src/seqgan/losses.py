"""The three losses, as pure functions (reference §2-3)."""

from __future__ import annotations

from typing import Optional

import torch
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


def advantages(rewards: Tensor, baseline: str = "none", norm: str = "none", mask: Optional[Tensor] = None) -> Tensor:
    """What multiplies the log-probabilities in the policy gradient, from Q (B, T) -> (B, T).

    baseline 'mean' subtracts the batch mean of Q at each position; norm 'std' then divides by
    the batch's standard deviation at each position (+1e-8). With `mask` (variable length),
    both count the owned positions only. 'none', 'none' returns Q itself (the paper).
    """
    q = rewards.detach()
    m = torch.ones_like(q) if mask is None else mask.to(q.dtype)
    count = m.sum(0, keepdim=True).clamp(min=1)  # (1, T)
    if baseline == "mean":
        q = q - (q * m).sum(0, keepdim=True) / count if mask is not None else q - q.mean(dim=0, keepdim=True)
    elif baseline != "none":
        raise ValueError(f"reward baseline must be 'none' or 'mean', got {baseline!r}")
    if norm == "std":
        mean = (q * m).sum(0, keepdim=True) / count
        sd = (((q - mean) * m).pow(2).sum(0, keepdim=True) / count).sqrt()
        q = q / (sd + 1e-8)
    elif norm != "none":
        raise ValueError(f"reward norm must be 'none' or 'std', got {norm!r}")
    return q


def pg_loss(log_probs: Tensor, rewards: Tensor, baseline: str = "none", reduction: str = "sum",
            mask: Optional[Tensor] = None, norm: str = "none") -> Tensor:
    """SeqGAN policy-gradient loss  L = - sum_{b,t} log G(y_t | y_<t) * Q[b, t].

    Args:
        log_probs: (B, T) log-probabilities of the sampled tokens (teacher-forced, with grad).
        rewards: (B, T) Q values (no grad).
        baseline: 'none' (the paper) or 'mean' (subtract the batch mean of Q per time step).
        reduction: 'sum' over batch and time (the paper) or 'mean'.
        mask: (B, T) bool, variable length: positions after <eos> carry no reward and no
            gradient; the 'mean' baseline and reduction count the owned positions only.
        norm: 'none' (the paper) or 'std' (divide by the batch's standard deviation of Q per
            position, after the baseline); see `advantages`.
    """
    q = advantages(rewards, baseline, norm, mask)
    per_token = -log_probs * q  # (B, T)
    if mask is not None:
        per_token = per_token * mask
    if reduction == "sum":
        return per_token.sum()
    if reduction == "mean":
        return per_token.mean() if mask is None else per_token.sum() / mask.sum().clamp(min=1)
    raise ValueError(f"loss reduction must be 'sum' or 'mean', got {reduction!r}")


def discriminator_loss(disc: Discriminator, logits: Tensor, labels: Tensor, l2: float,
                       label_smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy (class 1 = real) + l2 * (sum(W_out^2)/2 + sum(b_out^2)/2).

    label_smoothing eps > 0: one-sided smoothing (Salimans et al. 2016): real sequences are
    trained towards p(real) = 1 - eps, generated ones towards 0 as before."""
    if label_smoothing == 0.0:
        return F.cross_entropy(logits, labels) + l2 * disc.l2_penalty()
    p_real = labels.to(logits.dtype) * (1.0 - label_smoothing)  # (B,)
    target = torch.stack([1.0 - p_real, p_real], 1)  # (B, 2) class probabilities
    return F.cross_entropy(logits, target) + l2 * disc.l2_penalty()
