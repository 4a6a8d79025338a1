"""Gumbel-softmax samples of any policy, as RelGAN's generator makes them for its adversarial
updates (the authors' models/rmc_vanilla.py and utils/ops.py add_gumbel; reference §4).

Notation: M rows, T length, V vocabulary.

At every step t, with the logits o_t of the policy's features:

    g_t = -log(-log(u + 1e-10) + 1e-10),  u ~ U(0, 1)^V          Gumbel(0, 1) noise (their eps)
    y_t = argmax(o_t + g_t)                                      an exact draw from softmax(o_t)
    x~_t = softmax(beta (o_t + g_t))                              the relaxed one-hot (their order:
                                                                 beta multiplies the noisy logits)

and the policy reads the hard token y_t next (its embedding, not the soft mixture). The relaxed
one-hots are a differentiable function of the logits only, and since every input is a hard token
the logits o_t of a generated sequence Y are its teacher-forced logits. So a relaxed sample is
made in two passes with the same gradient as the authors' unrolled graph: `gumbel_sample` draws Y
and keeps the noise g (no autograd), and `relax` recomputes o = policy(Y) through autograd (or takes
the logits given) and returns softmax(beta (o + g)).

Variable length (an eos_token): a row ends at its first <eos> and reads <pad> after it; the
positions after the end are the hard one-hot of <pad> (what a real padded row is), with no
gradient. <pad> and <bos> have logit -inf and probability 0 in every relaxed vector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import torch
from torch import Tensor

if TYPE_CHECKING:
    from seqgan.policies.base import Policy

#: the authors' eps inside the two logs
GUMBEL_EPS = 1e-10


def gumbel_noise(shape: tuple[int, ...], generator: Optional[torch.Generator], device: torch.device) -> Tensor:
    """Gumbel(0, 1) noise as the authors draw it: -log(-log(u + 1e-10) + 1e-10), u ~ U(0, 1)."""
    u = torch.rand(shape, generator=generator, device=device)
    return u.add_(GUMBEL_EPS).log_().neg_().add_(GUMBEL_EPS).log_().neg_()


@torch.no_grad()
def gumbel_sample(policy: "Policy", m: int, generator: Optional[torch.Generator]) -> tuple[Tensor, Tensor, Tensor]:
    """m sequences by the Gumbel-max trick: Y (m, T) int64 with y_t = argmax(o_t + g_t), the noise
    g (m, T, V) and the logits o (m, T, V) they were drawn with (-inf at <pad>, <bos> in
    variable-length mode). Rows past their <eos> hold <pad>; their noise and logits are unused."""
    T, V = policy.seq_len, policy.vocab_size
    device = policy.W_out.device
    dec = policy.decoder()
    state = dec.start(m)
    Y = torch.full((m, T), policy.pad_token, dtype=torch.long, device=device)
    g = torch.empty(m, T, V, device=device)
    o = torch.empty(m, T, V, device=device)
    done = torch.zeros(m, dtype=torch.bool, device=device)
    for t in range(T):
        o[:, t] = policy.logits(state[0])  # (m, V)
        g[:, t] = gumbel_noise((m, V), generator, device)
        y = (o[:, t] + g[:, t]).argmax(1)  # (m,)
        if policy.eos_token is not None:
            y = y.masked_fill(done, policy.pad_token)
            done |= y == policy.eos_token
        Y[:, t] = y
        if t + 1 < T:
            state = dec.step(state, y)
    return Y, g, o


def relax(policy: "Policy", Y: Tensor, g: Tensor, beta: float, logits: Optional[Tensor] = None,
          model: Optional[torch.nn.Module] = None) -> Tensor:
    """The relaxed one-hots softmax(beta (o + g)) of sequences Y (m, T) drawn with noise g (m, T, V):
    (m, T, V), differentiable in the policy's parameters through o = model(Y), the teacher-forced
    logits (`model`: the policy or its DistributedDataParallel wrapper), unless `logits` are given.
    Positions after a row's end are the one-hot of <pad>."""
    o = (model or policy)(Y) if logits is None else logits  # (m, T, V)
    soft = torch.softmax((o + g) * beta, dim=-1)
    if policy.eos_token is None:
        return soft
    pad = torch.zeros(soft.shape[-1], device=soft.device)
    pad[policy.pad_token] = 1.0
    return torch.where(policy.mask(Y)[..., None], soft, pad)

