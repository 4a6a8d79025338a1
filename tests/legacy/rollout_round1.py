# The round-1 implementation (commit 8c74f91), kept unchanged as the reference that the
# one sampler of seqgan.policies is tested against (tests/test_policies.py). Not used by the package.
"""Monte Carlo rollout rewards Q(s, a) of SeqGAN (reference §3, paper Eq. 4).

For a sampled batch Y (B, T) and N rollouts:

    Q[b, t] = mean_n D(MC_n(Y[b, :t+1]))   for t < T-1   (0-based: the prefix keeps t+1 tokens)
    Q[b, T-1] = D(Y[b])

All B x (T-1) x N completions run together, without Python loops over rollouts or
prefixes:

1. one teacher-forced pass of the rollout policy over Y gives the LSTM state after
   every prefix;
2. completions are laid out prefix-major, row = (p, n, b) for prefix length p = 1..T-1.
   At time step s only the rows with p <= s are sampling, and they are the first
   s * N * B rows; rows whose prefix ends at s join at step s with the teacher-forced
   state. So each step is one batched LSTM step and one batched categorical draw over
   a contiguous block of rows, and no work is spent on tokens that are already fixed;
3. all completions are scored by D in chunks of `score_chunk` rows (0: sized by the device,
   `Discriminator.auto_score_chunk`). D's weights are fixed while scoring and its first
   layer is linear in the embeddings, so the convolutions become sums of rows of
   per-(token, offset) tables computed once per call
   (`Discriminator.conv_tables`): exact, and about 4x cheaper than the convolutions.

Variable length (task=data, the policy has an `eos_token`): let e_b be the last position
row b owns (its first <eos>, else T-1). Only the prefixes p = 1..e_b are rolled out (a
prefix that already holds the <eos> is a finished sequence, its value is D(Y[b])); each
completion stops at its own <eos> and is padded after it; finished completions leave the
batch. Then Q[b, t] is the rollout mean for t < e_b, D(Y[b]) at t = e_b, and 0 after it
(those positions carry neither reward nor gradient).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, NamedTuple, Optional

import torch
from torch import Tensor

from seqgan.models.discriminator import Discriminator
from legacy.lstm_round1 import LSTMLM
from seqgan.perf import Autocast


class Rollout(NamedTuple):
    """Result of `rollout_rewards`.

    rewards:     (B, T) float32, Q[b, t] for the token at position t.
    completions: (T-1, N, B, T) int64, completions[p-1, n, b] is rollout n of Y[b, :p].
    scores:      (T-1, N, B) float32, D of each completion.
    """

    rewards: Tensor
    completions: Tensor
    scores: Tensor


@torch.no_grad()
def sample_completions(policy: LSTMLM, Y: Tensor, num_rollouts: int,
                       generator: Optional[torch.Generator] = None) -> Tensor:
    """Complete every proper prefix of every row of Y, `num_rollouts` times.

    Args:
        policy: the rollout policy (the current generator, or its moving-average copy).
        Y: (B, T) int64 sampled sequences.
    Returns:
        (T-1, N, B, T) int64; [p-1, n, b, :p] == Y[b, :p] and the rest is sampled.
    """
    B, T = Y.shape
    N = num_rollouts
    K = N * B  # rows per prefix length
    h_tf, c_tf = policy.hidden_states(Y)  # (B, T, H): h_tf[:, p] has read start, y_0..y_{p-1}
    xw_table = policy.embedding @ policy.W + policy.b  # (V, 4H)
    out = Y.expand(T - 1, N, B, T).clone()  # (T-1, N, B, T) every row starts as Y
    flat = out.view((T - 1) * K, T)  # row = (p-1) * K + n * B + b
    h = h_tf.new_zeros(0, policy.hidden_dim)
    c = h_tf.new_zeros(0, policy.hidden_dim)
    prev = Y.new_zeros(0)
    for s in range(1, T):  # s: index of the token being sampled; rows with prefix p <= s are live
        if s > 1:  # advance the rows that are already sampling by one step, input = their last token
            h, c = policy.cell(xw_table[prev], h, c)
        # rows with prefix length p == s join with the teacher-forced state after y_0..y_{s-1}
        h = torch.cat([h, h_tf[:, s].repeat(N, 1)], 0)  # (s*K, H)
        c = torch.cat([c, c_tf[:, s].repeat(N, 1)], 0)
        tok = policy.sample_next(h, generator)  # (s*K,)
        flat[: s * K, s] = tok
        prev = tok
    return out


@torch.no_grad()
def rollout_rewards(policy: LSTMLM, discriminator: Discriminator, Y: Tensor, num_rollouts: int,
                    generator: Optional[torch.Generator] = None, score_chunk: int = 0,
                    score_tables: Optional[bool] = None, autocast: Autocast = nullcontext) -> Rollout:
    """Q (B, T) for the sampled batch Y (B, T); see the module docstring.

    score_chunk: completions per discriminator pass; 0 sizes them by the device (4,096 on a CPU).
    score_tables: score through the discriminator's shared convolution tables
    (`Discriminator.conv_tables`, exact); None decides by the number of completions.
    autocast: the context of the discriminator's scoring (`train.precision`; sampling is fp32).
    """
    def score(x: Tensor, tables: Optional[bool] = None) -> Tensor:  # (M, T) -> (M,) float32
        with autocast():
            return discriminator.prob_real(x, chunk=score_chunk, shared_tables=tables).float()

    if policy.eos_token is not None:
        return _rollout_rewards_until_eos(policy, score, Y, num_rollouts, generator, score_tables)
    B, T = Y.shape
    completions = sample_completions(policy, Y, num_rollouts, generator)  # (T-1, N, B, T)
    scores = score(completions.view(-1, T), score_tables)  # ((T-1)*N*B,)
    scores = scores.view(T - 1, num_rollouts, B)
    q = torch.empty(B, T, device=Y.device)
    q[:, : T - 1] = scores.mean(dim=1).t()  # (T-1, B) -> (B, T-1)
    q[:, T - 1] = score(Y)
    return Rollout(q, completions, scores)


@torch.no_grad()
def sample_completions_until_eos(policy: LSTMLM, Y: Tensor, num_rollouts: int,
                                 generator: Optional[torch.Generator] = None,
                                 compact: Optional[bool] = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Variable-length completions of the unfinished prefixes of Y (B, T).

    Returns (completions (R, T), p (R,), n (R,), b (R,)): row r completes Y[b_r, :p_r] (rollout
    n_r), rows ordered by (p, n, b). Prefixes that already hold their row's last owned
    position are not rolled out. compact (default: on CPU): finished completions leave the
    batch (a host sync per step); otherwise they keep stepping and are padded, so the step
    loop has no host sync (two per call before it).
    """
    B, T = Y.shape
    N, eos, pad = num_rollouts, policy.eos_token, policy.pad_token
    assert eos is not None, "variable-length rollouts need a policy with an eos_token"
    if compact is None:
        compact = Y.device.type == "cpu"
    ends = policy.mask(Y).sum(1) - 1  # (B,) last owned position
    need = torch.arange(1, T, device=Y.device)[:, None] <= ends[None, :]  # (T-1, B): prefix length p = row + 1
    p_idx, n_idx, b_idx = need[:, None, :].expand(T - 1, N, B).nonzero(as_tuple=True)  # sorted by (p, n, b)
    p = p_idx + 1  # (R,)
    pos = torch.arange(T, device=Y.device)
    out = torch.where(pos[None, :] < p[:, None], Y[b_idx], torch.full_like(Y[b_idx], pad))  # (R, T) prefix, then pad
    # rows joining at step s (prefix length s) are out[bounds[s-1]:bounds[s]]
    bounds = torch.searchsorted(p, torch.arange(1, T + 1, device=Y.device)).tolist()
    h_tf, c_tf = policy.hidden_states(Y)  # (B, T, H): h_tf[:, s] has read start, y_0..y_{s-1}
    xw_table = policy.embedding @ policy.W + policy.b  # (V, 4H)
    live = Y.new_zeros(0)  # rows of `out` being sampled (compact); else rows [0, hi) are
    done = torch.zeros(0, dtype=torch.bool, device=Y.device)  # (not compact) rows past their <eos>
    h = h_tf.new_zeros(0, policy.hidden_dim)
    c = h_tf.new_zeros(0, policy.hidden_dim)
    prev = Y.new_zeros(0)
    for s in range(1, T):
        if prev.numel():
            h, c = policy.cell(xw_table[prev], h, c)
        lo, hi = bounds[s - 1], bounds[s]
        if hi > lo:  # prefixes of length s join with their teacher-forced state
            joining = torch.arange(lo, hi, device=Y.device)
            h = torch.cat([h, h_tf[b_idx[joining], s]], 0)
            c = torch.cat([c, c_tf[b_idx[joining], s]], 0)
            if compact:
                live = torch.cat([live, joining])
            else:
                done = torch.cat([done, done.new_zeros(hi - lo)])
        if h.shape[0] == 0:
            continue
        tok = policy.sample_next(h, generator)  # (L,)
        if compact:
            out[live, s] = tok
            keep = tok.ne(eos).nonzero().squeeze(1)
            if keep.numel() < tok.numel():  # finished completions leave the batch
                live, h, c, tok = live[keep], h[keep], c[keep], tok[keep]
        else:
            out[:hi, s] = tok.masked_fill(done, pad)
            done |= tok == eos
        prev = tok
    return out, p, n_idx, b_idx


@torch.no_grad()
def _rollout_rewards_until_eos(policy: LSTMLM, score: Callable[..., Tensor], Y: Tensor, num_rollouts: int,
                               generator: Optional[torch.Generator], score_tables: Optional[bool]) -> Rollout:
    B, T = Y.shape
    N = num_rollouts
    comp, p, n_idx, b_idx = sample_completions_until_eos(policy, Y, N, generator)  # (R, T)
    d_y = score(Y)  # (B,)
    # dense layouts: a prefix that was not rolled out is the finished sequence itself
    completions = Y.expand(T - 1, N, B, T).clone()
    scores = d_y.expand(T - 1, N, B).clone()
    if comp.shape[0]:
        completions[p - 1, n_idx, b_idx] = comp
        scores[p - 1, n_idx, b_idx] = score(comp, score_tables)
    q = torch.empty(B, T, device=Y.device)
    q[:, : T - 1] = scores.mean(dim=1).t()
    q[:, T - 1] = d_y
    q.masked_fill_(~policy.mask(Y), 0.0)  # no reward after the end
    return Rollout(q, completions, scores)
