"""The one sampler of every policy: exact categorical draws, whole sequences, and rollout
completions of shared prefixes, fixed-length or until `<eos>`.

Notation: B batch, T length, V vocabulary, H feature size, N rollouts, M live rows.

Everything that generates tokens runs `generate`: rows *join* at a step s with a policy
state (the state after reading the start token and s fixed tokens, whose features predict
token s), then at every step each live row draws its next token (`Policy.draw`), writes it
and reads it (`Decoder.step`). Sampling is the case where every row joins at step 0 with the
start state; rollouts are the case where the completions of prefix length p join at step p
with the teacher-forced state of their sequence (`Policy.prefixes`), so all B x N x (T-1)
completions advance together and no work is spent on tokens that are already fixed.

A policy state is a tuple of tensors whose first dimension is the rows and whose first
element is the features (M, H) that predict the next token; `cat_states` and `select_rows`
are all the sampler needs to know about it.

Variable length (the policy has an `eos_token`): a row stops at its first <eos> and is
<pad> after it; a row that reaches the last position without one gets <eos> there (T positions
hold at most T - 1 = max_len tokens and their <eos>, as every training sequence does). With
`compact` (the CPU default) finished rows leave the batch, at one host sync per step; without
it (CUDA) they keep stepping and what they draw is overwritten with <pad>, so that no step
waits for the host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Sequence, Union

import torch
from torch import Tensor

if TYPE_CHECKING:
    from seqgan.policies.base import Policy

State = tuple[Tensor, ...]
"""A batch of policy states: tensors with the rows first; [0] is the features (M, H)."""

Temperature = Union[float, Sequence[float]]
"""The softmax temperature of sampling: one for every step, or one per step (LeakGAN's authors sharpen
the first two tokens of the samples they train on)."""


def step_temperature(temperature: Temperature, s: int) -> float:
    """The temperature of step s."""
    return float(temperature) if isinstance(temperature, (int, float)) else float(temperature[s])

#: rows of the (rows, V) softmax handled at once while sampling and scoring: small enough
#: to stay in cache, large enough for efficient matmuls; bounds memory, never changes results
ROW_CHUNK = 512


def cat_states(a: Optional[State], b: State) -> State:
    """Rows of `a`, then rows of `b`."""
    return b if a is None else tuple(torch.cat([x, y], 0) for x, y in zip(a, b))


def select_rows(state: State, rows: Tensor) -> State:
    return tuple(x[rows] for x in state)


# ============================================================================ categorical draws

def _block_size(V: int) -> int:
    """A divisor of V near sqrt(V) (no padding needed), else sqrt(V) with padding."""
    r = int(V ** 0.5)
    for d in range(r, max(2, r // 2) - 1, -1):
        if V % d == 0:
            return d
    return max(1, r)


def draw_inplace(z: Tensor, u: Tensor) -> Tensor:
    """Inverse-CDF draw from softmax(z) per row, destroying z. z (m, V) float32, u (m, 1) -> (m,).

    Two-level search: block sums of ~sqrt(V) probabilities pick the block, then one
    cumulative sum inside that block picks the token, so no (m, V) cumulative sum is formed.
    """
    m, V = z.shape
    S = _block_size(V)
    nb = -(-V // S)
    z.sub_(z.amax(dim=1, keepdim=True)).exp_()  # (m, V) unnormalised probabilities
    if nb * S != V:  # pad with zero probability to whole blocks
        z = torch.cat([z, z.new_zeros(m, nb * S - V)], 1)
    blocks = z.view(m, nb, S)
    bcdf = blocks.sum(2).cumsum_(1)  # (m, nb)
    target = u * bcdf[:, -1:]  # (m, 1)
    k = torch.searchsorted(bcdf, target, right=True).clamp_(max=nb - 1)  # (m, 1) block index
    below = torch.where(k > 0, bcdf.gather(1, (k - 1).clamp_(min=0)), torch.zeros_like(target))
    inner = blocks.gather(1, k.unsqueeze(2).expand(m, 1, S)).squeeze(1).cumsum_(1)  # (m, S)
    j = torch.searchsorted(inner, target - below, right=True).clamp_(max=S - 1)  # (m, 1)
    return (k * S + j).squeeze(1).clamp_(max=V - 1)


def sample_categorical(logits: Tensor, generator: Optional[torch.Generator] = None,
                       temperature: float = 1.0) -> Tensor:
    """One exact categorical draw per row of `logits` (M, V) -> (M,) int64.

    Inverse-CDF sampling with one uniform u per row: the token is the first index whose
    cumulative probability exceeds u * total. It draws from softmax(logits / temperature)
    exactly (up to float rounding of the sums) with one random number per row, where
    `torch.multinomial` spends V. Zero-probability tokens own empty intervals and are
    never drawn. `logits` is not modified.
    """
    M = logits.shape[0]
    u = torch.rand(M, 1, generator=generator, device=logits.device, dtype=torch.float32)
    out = torch.empty(M, dtype=torch.long, device=logits.device)
    for lo in range(0, M, ROW_CHUNK):
        z = logits[lo:lo + ROW_CHUNK].float() / temperature  # a fresh copy, safe to overwrite
        out[lo:lo + z.shape[0]] = draw_inplace(z, u[lo:lo + z.shape[0]])
    return out


def logits_draw(h: Tensor, u: Tensor, W_out: Tensor, b: Tensor, temperature: float) -> Tensor:
    """One chunk of a sampling step: logits = h @ W_out + b, then the inverse-CDF draw.
    h (m, H), u (m, 1), W_out (H, V), b (V,) -> (m,) int64."""
    z = torch.addmm(b, h, W_out)  # (m, V)
    if temperature != 1.0:
        z.div_(temperature)
    return draw_inplace(z, u)


def logits_nll(h: Tensor, y: Tensor, W_out: Tensor, b: Tensor) -> Tensor:
    """One chunk of scoring: -log softmax(h @ W_out + b)[y] = logsumexp(z) - z[y], in place.
    h (m, H), y (m, 1) -> (m,) float32."""
    z = torch.addmm(b, h, W_out)  # (m, V)
    zy = z.gather(1, y).squeeze(1)
    zmax = z.amax(dim=1)
    return z.sub_(zmax[:, None]).exp_().sum(1).log_().add_(zmax) - zy


# ============================================================================ the generation loop

Joins = Callable[[int], Optional[tuple[Tensor, State]]]
"""joins(s) -> (rows of `out` that join at step s, their states) or None."""


@torch.no_grad()
def generate(policy: "Policy", out: Tensor, joins: Joins, last_join: int, generator: Optional[torch.Generator],
             temperature: Temperature = 1.0, compact: Optional[bool] = None) -> Tensor:
    """Fill `out` (R, T) in place: every row draws its tokens from the step it joins at, step s
    from softmax(logits / temperature) (`temperature[s]` when it is one per step).

    Rows join in the order of `out` (rows joining at step s come after every row that joined
    earlier), so that without compaction the live rows are always out[:n]. `last_join` is the
    last step at which rows may join (the loop ends early when every row has finished).
    """
    T, eos, pad = out.shape[1], policy.eos_token, policy.pad_token
    if compact is None:
        compact = out.device.type == "cpu"
    compact = compact and eos is not None
    dec = policy.decoder()
    state: Optional[State] = None
    live = out.new_zeros(0)  # compact: the rows of `out` that are live
    n = 0  # not compact: rows out[:n] have joined
    done = torch.zeros(0, dtype=torch.bool, device=out.device)  # not compact, eos: rows past their <eos>
    for s in range(T):
        joined = joins(s)
        if joined is not None:
            rows, st = joined
            state = cat_states(state, st)
            if compact:
                live = torch.cat([live, rows])
            else:
                n += rows.numel()
                done = torch.cat([done, done.new_zeros(rows.numel())])
        if state is None or state[0].shape[0] == 0:
            if s >= last_join:
                break
            continue
        tok = policy.draw(state[0], generator, step_temperature(temperature, s))  # (M,)
        if eos is not None and s == T - 1:  # the last position ends every sequence still going (drawn all
            tok = torch.full_like(tok, eos)  # the same, so the stream does not change): max_len tokens, <eos>
        if compact:
            out[live, s] = tok
            assert eos is not None  # compaction is for sequences that end
            keep = tok.ne(eos).nonzero().squeeze(1)  # a host sync, to shrink the batch
            if keep.numel() < tok.numel():  # finished rows leave the batch
                live, tok, state = live[keep], tok[keep], select_rows(state, keep)
        elif eos is not None:
            out[:n, s] = tok.masked_fill(done, pad)
            done |= tok == eos
        else:
            out[:n, s] = tok
        if s + 1 < T and state[0].shape[0]:
            state = dec.step(state, tok)
    return out


@torch.no_grad()
def sample(policy: "Policy", num: int, generator: Optional[torch.Generator] = None, temperature: Temperature = 1.0,
           batch: int = 2048, compact: Optional[bool] = None) -> Tensor:
    """`num` sequences (num, T) int64 from the start token, `batch` rows at a time (memory only).
    Fixed length, or (eos_token set) each row stops at its first <eos>, <pad> after it."""
    device = policy.W_out.device
    out = []
    for lo in range(0, num, batch):
        m = min(batch, num - lo)
        seq = torch.full((m, policy.seq_len), policy.pad_token, dtype=torch.long, device=device)
        start = policy.decoder().start(m)
        # the lambda reads m and start of this block only: generate returns before the next one
        generate(policy, seq, lambda s: (torch.arange(m, device=device), start) if s == 0 else None, 0,  # noqa: B023
                 generator, temperature, compact)
        out.append(seq)
    return torch.cat(out, 0)


@torch.no_grad()
def complete(policy: "Policy", Y: Tensor, num_rollouts: int, generator: Optional[torch.Generator] = None,
             compact: Optional[bool] = None, lengths: Optional[Sequence[int]] = None
             ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Monte Carlo completions of every proper prefix of every row of Y (B, T), N times
    (`lengths`: of the prefixes of those lengths only, each in 1..T-1).

    Returns (completions (R, T), p (R,), n (R,), b (R,)): row r keeps Y[b_r, :p_r] and
    completes it (rollout n_r); rows are ordered by (p, n, b). Fixed length: every prefix
    p = 1..T-1, R = (T-1) N B, so `completions.view(T-1, N, B, T)` is the dense layout
    (with `lengths`, R = len(lengths) N B and `view(len(lengths), N, B, T)`).
    Variable length: only the prefixes that do not yet hold their row's first <eos> (a prefix
    that does is a finished sequence), and each completion stops at its own <eos>.
    """
    B, T = Y.shape
    N, pad = num_rollouts, policy.pad_token
    ends = policy.mask(Y).sum(1) - 1  # (B,) last position each row owns (T-1 at fixed length)
    need = torch.arange(1, T, device=Y.device)[:, None] <= ends[None, :]  # (T-1, B): prefix p = row + 1
    if lengths is not None:  # only the chosen prefix lengths
        chosen = torch.zeros(T - 1, 1, dtype=torch.bool, device=Y.device)
        chosen[torch.tensor([p - 1 for p in lengths], dtype=torch.long, device=Y.device)] = True
        need &= chosen
    p_idx, n_idx, b_idx = need[:, None, :].expand(T - 1, N, B).nonzero(as_tuple=True)  # sorted by (p, n, b)
    p = p_idx + 1  # (R,)
    pos = torch.arange(T, device=Y.device)
    out = torch.where(pos[None, :] < p[:, None], Y[b_idx], torch.full_like(Y[b_idx], pad))  # (R, T)
    bounds = torch.searchsorted(p, torch.arange(1, T + 1, device=Y.device)).tolist()  # joining at s: [s-1], [s]
    prefixes = policy.prefixes(Y)

    def joins(s: int) -> Optional[tuple[Tensor, State]]:
        if s == 0 or bounds[s] == bounds[s - 1]:
            return None
        rows = torch.arange(bounds[s - 1], bounds[s], device=Y.device)
        return rows, prefixes.state(s, b_idx[rows])

    generate(policy, out, joins, T - 1, generator, 1.0, compact)
    return out, p, n_idx, b_idx
