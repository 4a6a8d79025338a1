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
3. all completions are scored by D in chunks of `score_chunk` rows. D's weights are fixed
   while scoring and its first layer is linear in the embeddings, so the convolutions
   become sums of rows of per-(token, offset) tables computed once per call
   (`Discriminator.conv_tables`): exact, and about 4x cheaper than the convolutions.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor

from seqgan.models.discriminator import Discriminator
from seqgan.models.lstm import LSTMLM


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
                    generator: Optional[torch.Generator] = None, score_chunk: int = 4096,
                    score_tables: Optional[bool] = None) -> Rollout:
    """Q (B, T) for the sampled batch Y (B, T); see the module docstring.

    score_tables: score through the discriminator's shared convolution tables
    (`Discriminator.conv_tables`, exact); None decides by the number of completions.
    """
    B, T = Y.shape
    completions = sample_completions(policy, Y, num_rollouts, generator)  # (T-1, N, B, T)
    scores = discriminator.prob_real(completions.view(-1, T), chunk=score_chunk,
                                     shared_tables=score_tables)  # ((T-1)*N*B,)
    scores = scores.view(T - 1, num_rollouts, B)
    q = torch.empty(B, T, device=Y.device)
    q[:, : T - 1] = scores.mean(dim=1).t()  # (T-1, B) -> (B, T-1)
    q[:, T - 1] = discriminator.prob_real(Y, chunk=score_chunk)
    return Rollout(q, completions, scores)
