"""The losses, as pure functions (reference §2-3; RelGAN's RSGAN loss, §4).

The generator's MLE and policy-gradient losses are weighted NLLs L = sum_{b,t} w[b, t] * -log G(y_t | y_<t)
that training computes through the fused output layer (`Policy.forward(Y, weights=w)`); this module
gives their coefficients: `mle_weights` and `pg_weights`."""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from seqgan.models.discriminator import Discriminator


def _local(x: Tensor) -> Tensor:
    return x


def mle_weights(tokens: Tensor, mask: Optional[Tensor] = None, reduce: Callable[[Tensor], Tensor] = _local,
                world_size: int = 1) -> Tensor:
    """The coefficients w (B, T) of the MLE loss L = sum_{b,t} w[b, t] * -log G(y_t | y_<t), the mean
    per-token NLL of `tokens` (B, T), as training computes it through the fused output layer
    (`Policy.forward(tokens, weights=w)`): 1 / (B T) everywhere (B this rank's rows), or with `mask` (B, T) (variable
    length) the masked positions divided by their count in the global batch (`reduce` sums a rank's
    count over ranks under torchrun; padding after <eos> is never trained on). Under torchrun
    (`world_size` K) they are multiplied by K, since DDP averages the ranks' gradients."""
    if mask is None:
        return torch.full(tokens.shape, 1.0 / tokens.numel(), device=tokens.device)
    count = reduce(mask.sum().float())  # tokens in the global batch
    return mask / (count / world_size)


def advantages(rewards: Tensor, baseline: str = "none", norm: str = "none", mask: Optional[Tensor] = None,
               reduce: Callable[[Tensor], Tensor] = _local) -> Tensor:
    """What multiplies the log-probabilities in the policy gradient, from Q (B, T) -> (B, T).

    baseline 'mean' subtracts the batch mean of Q at each position; norm 'std' then divides by
    the batch's standard deviation at each position (+1e-8). With `mask` (variable length),
    both count the owned positions only. 'none', 'none' returns Q itself (the paper).
    `reduce` sums a per-rank partial sum over the global batch (under torchrun an all-reduce;
    default: this batch is the whole batch), so the statistics are the global batch's.
    """
    q = rewards.detach()
    if baseline not in ("none", "mean"):
        raise ValueError(f"reward baseline must be 'none' or 'mean', got {baseline!r}")
    if norm not in ("none", "std"):
        raise ValueError(f"reward norm must be 'none' or 'std', got {norm!r}")
    m = torch.ones_like(q) if mask is None else mask.to(q.dtype)
    count = reduce(m.sum(0, keepdim=True)).clamp(min=1)  # (1, T) positions owned per time step
    if baseline == "mean":
        q = q - reduce((q * m).sum(0, keepdim=True)) / count
    if norm == "std":
        mean = reduce((q * m).sum(0, keepdim=True)) / count
        sd = (reduce(((q - mean) * m).pow(2).sum(0, keepdim=True)) / count).sqrt()
        q = q / (sd + 1e-8)
    return q


def pg_weights(rewards: Tensor, baseline: str = "none", reduction: str = "sum", mask: Optional[Tensor] = None,
               norm: str = "none", reduce: Callable[[Tensor], Tensor] = _local, world_size: int = 1) -> Tensor:
    """The coefficients w (B, T) of the policy-gradient loss L = sum_{b,t} w[b, t] * -log G(y_t | y_<t)
    (Eq. 8 with Q's advantages), as training computes it through the fused output layer
    (`Policy.forward(Y, weights=w)`): the advantages, zero after each row's end, and for 'mean' divided
    by the owned positions of the global batch. Under torchrun (`reduce` an all-reduce, `world_size`
    K) they are multiplied by K, since DDP averages the ranks' gradients."""
    if reduction not in ("sum", "mean"):
        raise ValueError(f"loss reduction must be 'sum' or 'mean', got {reduction!r}")
    m = torch.ones_like(rewards) if mask is None else mask.to(rewards.dtype)
    adv = advantages(rewards, baseline, norm, mask, reduce)
    scale = float(world_size) if reduction == "sum" else world_size / reduce(m.sum()).clamp(min=1)
    return adv * m * scale


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


def rsgan_loss(first: Tensor, second: Tensor) -> Tensor:
    """The relativistic standard GAN loss (Jolicoeur-Martineau 2018) as RelGAN's code computes it:
    the mean sigmoid cross-entropy of the logit differences against label 1,
    -mean log sigmoid(first - second), over paired logits (B, R) (row b, representation r of each).
    RelGAN's discriminator minimises rsgan_loss(D(real), D(fake)), its generator
    rsgan_loss(D(fake), D(real))."""
    return F.softplus(second - first).mean()
