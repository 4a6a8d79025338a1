"""Monte Carlo rollout rewards Q(s, a) of SeqGAN (reference §3, paper Eq. 4), for any policy
and any reward.

For a sampled batch Y (B, T), N rollouts and a reward R (the discriminator's D, or BLEU):

    Q[b, t] = mean_n R(MC_n(Y[b, :t+1]))   for t < T-1   (0-based: the prefix keeps t+1 tokens)
    Q[b, T-1] = R(Y[b])

All B x (T-1) x N completions are sampled together by the one sampler
(`seqgan.policies.sampler.complete`): completions of prefix length p join the batch at step
p with the teacher-forced state of their sequence, so each step is one batched policy step
and one batched draw, and no work is spent on tokens that are already fixed. They are then
scored by the reward in one call (the discriminator reward scores them in chunks, through
its shared first-layer tables). A reward that depends on a row's batch-mates (`GroupedReward`:
ORGAN's duplicate penalty) learns each completion's rollout column, the B completions (p, n)
of one prefix length p by one rollout n, as ORGAN's rollout scores them batch by batch; the
sampled batch Y is one batch.

Variable length (the policy has an `eos_token`): let e_b be the last position row b owns
(its first <eos>, else T-1). Only the prefixes p = 1..e_b are rolled out (a prefix that
already holds the <eos> is a finished sequence, its value is R(Y[b])); each completion stops
at its own <eos>. Then Q[b, t] is the rollout mean for t < e_b, R(Y[b]) at t = e_b, and 0
after it (those positions carry neither reward nor gradient).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from seqgan.policies import Policy
from seqgan.policies.sampler import complete
from seqgan.rewards import Reward
from seqgan.rewards.base import score


class Rollout(NamedTuple):
    """Result of `rollout_rewards`.

    rewards:     (B, T) float32, Q[b, t] for the token at position t.
    completions: (T-1, N, B, T) int64, completions[p-1, n, b] is rollout n of Y[b, :p]
                 (variable length: Y[b] itself where the prefix was not rolled out).
    scores:      (T-1, N, B) float32, the reward of each completion.
    """

    rewards: Tensor
    completions: Tensor
    scores: Tensor


@torch.no_grad()
def rollout_rewards(policy: Policy, reward: Reward, Y: Tensor, num_rollouts: int,
                    generator: Optional[torch.Generator] = None) -> Rollout:
    """Q (B, T) for the sampled batch Y (B, T): rollouts of `policy` scored by `reward`."""
    B, T = Y.shape
    N = num_rollouts
    comp, p, n_idx, b_idx = complete(policy, Y, N, generator)  # (R, T), rows ordered by (p, n, b)
    r_y = reward(Y)  # (B,)
    columns = (p - 1) * N + n_idx  # (R,) the rollout column (p, n) of each completion
    if comp.shape[0] == (T - 1) * N * B:  # every prefix rolled out (always at fixed length)
        completions = comp.view(T - 1, N, B, T)
        scores = score(reward, comp, columns).view(T - 1, N, B)
    else:  # dense layouts: a prefix that was not rolled out is the finished sequence itself
        completions = Y.expand(T - 1, N, B, T).clone()
        scores = r_y.expand(T - 1, N, B).clone()
        if comp.shape[0]:
            completions[p - 1, n_idx, b_idx] = comp
            scores[p - 1, n_idx, b_idx] = score(reward, comp, columns)
    q = torch.empty(B, T, device=Y.device)
    q[:, : T - 1] = scores.mean(dim=1).t()  # (T-1, B) -> (B, T-1)
    q[:, T - 1] = r_y
    if policy.eos_token is not None:
        q.masked_fill_(~policy.mask(Y), 0.0)  # no reward after the end
    return Rollout(q, completions, scores)


@torch.no_grad()
def prefix_rewards(policy: Policy, reward: Reward, Y: Tensor, num_rollouts: int, lengths: Sequence[int],
                   generator: Optional[torch.Generator] = None) -> Tensor:
    """Rewards at chosen prefix lengths only (LeakGAN's window boundaries): (B, L + 1), column i the
    mean reward of N rollouts of Y[:, :lengths[i]], the last column R(Y). Variable length: a prefix
    that already holds its row's <eos> is the finished sequence, worth R(Y)."""
    B, T = Y.shape
    N, L = num_rollouts, len(lengths)
    r_y = reward(Y)  # (B,)
    q = r_y[:, None].repeat(1, L + 1)  # (B, L + 1)
    if L == 0:
        return q
    comp, p, n_idx, b_idx = complete(policy, Y, N, generator, lengths=lengths)  # rows ordered by (p, n, b)
    column = torch.full((T,), -1, dtype=torch.long, device=Y.device)
    column[torch.tensor(list(lengths), dtype=torch.long, device=Y.device)] = torch.arange(L, device=Y.device)
    scores = r_y.expand(L, N, B).clone()  # (L, N, B): a prefix not rolled out is the finished sequence
    if comp.shape[0]:
        scores[column[p], n_idx, b_idx] = score(reward, comp, column[p] * N + n_idx)  # batches: rollout columns
    q[:, :L] = scores.mean(dim=1).t()
    return q
