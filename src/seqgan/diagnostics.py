"""What the adversarial phase is doing, measured (`train.diagnostics`, oracle task).

Two groups of numbers, pure functions of tensors, logged in metrics.jsonl when
`train.diagnostics: true`:

- `discriminator_probe`: D's mean probability of "real" and its accuracy (eval mode, no
  dropout) on named sets of sequences: the real sequences it trains on, fresh oracle
  sequences it has never seen (the held-out set of NLL-test), and fresh generator samples.
  A gap between the first two is memorisation of the training set.
- `reward_stats`: what the rollout rewards Q (B, T) of one g-step carry: their mean, their
  spread across the tokens of a sequence and across sequences, and how well they rank the
  sampled tokens the way the oracle does (Spearman correlation between Q[b, t] and the
  oracle's log-probability of y_t given the prefix, within each position t, averaged over t).

Fresh oracle sequences are drawn for diagnosis and NLL-test only; nothing trains on them.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from seqgan.models.discriminator import Discriminator


@torch.no_grad()
def discriminator_probe(disc: Discriminator, sets: dict[str, tuple[Tensor, bool]],
                        chunk: int = 0) -> dict[str, float]:
    """D on each named set: {f"d_prob_{name}": mean D(x), f"d_acc_{name}": accuracy}.

    sets: name -> (sequences (M, T), is_real). Accuracy counts D(x) > 0.5 as "real"."""
    out: dict[str, float] = {}
    for name, (x, is_real) in sets.items():
        p = disc.prob_real(x, chunk=chunk)  # (M,)
        out[f"d_prob_{name}"] = float(p.double().mean())
        out[f"d_acc_{name}"] = float(((p > 0.5) == is_real).double().mean())
    return out


def _ranks(x: Tensor, dim: int) -> Tensor:
    """Ranks 0..n-1 along `dim` (ties broken by position; rewards and log-probs are floats)."""
    return x.argsort(dim=dim).argsort(dim=dim).to(torch.float64)


def spearman(a: Tensor, b: Tensor, dim: int = 0) -> Tensor:
    """Spearman's rank correlation of a and b along `dim` (Pearson's of their ranks).
    A constant column gives 0. a, b (..., n, ...) -> the other dims."""
    ra, rb = _ranks(a, dim), _ranks(b, dim)
    ra = ra - ra.mean(dim=dim, keepdim=True)
    rb = rb - rb.mean(dim=dim, keepdim=True)
    den = (ra.pow(2).sum(dim) * rb.pow(2).sum(dim)).sqrt()
    r = (ra * rb).sum(dim) / den.clamp(min=1e-300)
    const = (a.amax(dim) == a.amin(dim)) | (b.amax(dim) == b.amin(dim))
    return r.masked_fill(const, 0.0)


@torch.no_grad()
def reward_stats(q: Tensor, oracle_log_probs: Optional[Tensor] = None) -> dict[str, float]:
    """Statistics of the rewards Q (B, T) of one g-step.

    reward_mean: mean of Q; reward_sd_tokens: the standard deviation of Q over the positions
    of a sequence, averaged over sequences; reward_sd_seqs: the standard deviation over the
    batch of each sequence's mean Q; reward_sd_batch: the standard deviation over the batch at
    each position, averaged over positions (what a per-position baseline leaves);
    with oracle_log_probs (B, T), log p_oracle(y_t | y_<t) of the same tokens:
    reward_oracle_spearman, the rank correlation of Q[:, t] and the oracle's log-probability
    within each position t, averaged over t (1: Q orders the batch's tokens exactly as the
    oracle does; 0: no relation), and reward_oracle_spearman_prefix, the same against the
    oracle's log-probability of the whole prefix y_1..y_t (what Q, the expected D of the
    prefix's completions, estimates a function of).
    """
    q64 = q.double()
    out = {"reward_mean": float(q64.mean()),
           "reward_sd_tokens": float(q64.std(dim=1, unbiased=False).mean()),
           "reward_sd_seqs": float(q64.mean(dim=1).std(unbiased=False)),
           "reward_sd_batch": float(q64.std(dim=0, unbiased=False).mean())}
    if oracle_log_probs is not None:
        lp = oracle_log_probs.double()
        out["reward_oracle_spearman"] = float(spearman(q64, lp, dim=0).mean())
        out["reward_oracle_spearman_prefix"] = float(spearman(q64, lp.cumsum(dim=1), dim=0).mean())
    return out
