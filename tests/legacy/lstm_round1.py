# The round-1 implementation (commit 8c74f91), kept unchanged as the reference that the
# one sampler of seqgan.policies is tested against (tests/test_policies.py). Not used by the package.
"""The LSTM language model of the oracle experiment (reference §2), shared by the
oracle, the generator and the rollout policy.

Notation: B batch, T sequence length, V vocabulary, E embedding, H hidden.

Parameters are kept in the original's layout (row vectors times matrices), so the
original's oracle loads without transposes:

    gates = x @ W + h @ U + b            W (E, 4H), U (H, 4H), b (4H); order [i | f | o | c]
    i, f, o = sigmoid(gates[:3H]);  g = tanh(gates[3H:])
    c' = f * c + i * g;  h' = o * tanh(c')
    logits = h' @ W_out + b_out          W_out (H, V), b_out (V)

No peepholes, no forget-bias offset. Step 1's input is the start token's embedding,
step t's input the embedding of token t-1.

Variable length (task=data, `eos_token` set): a sequence ends at its first <eos> and is
padded with <pad> after it; <pad> and the start token <bos> get logit -inf (they are never
sampled, and the softmax is over the tokens that can occur); sampling stops per row at
<eos>; `token_nll`/`nll` count the positions up to and including the <eos> only.
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: rows of the (rows, V) softmax handled at once while sampling and scoring: small enough
#: to stay in cache, large enough for efficient matmuls; bounds memory, never changes results
ROW_CHUNK = 512


def _block_size(V: int) -> int:
    """A divisor of V near sqrt(V) (no padding needed), else sqrt(V) with padding."""
    r = int(V ** 0.5)
    for d in range(r, max(2, r // 2) - 1, -1):
        if V % d == 0:
            return d
    return max(1, r)


def _draw_inplace(z: Tensor, u: Tensor) -> Tensor:
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
        out[lo:lo + z.shape[0]] = _draw_inplace(z, u[lo:lo + z.shape[0]])
    return out


def log_probs_from_logits(logits: Tensor, tokens: Tensor) -> Tensor:
    """log softmax(logits)[token] at every position. logits (B, T, V), tokens (B, T) -> (B, T).

    Separate from the model so that a DistributedDataParallel wrapper's forward (which
    returns the logits) can be used for training steps."""
    B, T, V = logits.shape
    return -F.cross_entropy(logits.reshape(B * T, V), tokens.reshape(B * T), reduction="none").view(B, T)


def _logits_draw(h: Tensor, u: Tensor, W_out: Tensor, b: Tensor, temperature: float) -> Tensor:
    """One chunk of a sampling step: logits = h @ W_out + b, then the inverse-CDF draw.
    h (m, H), u (m, 1), W_out (H, V), b (V,) -> (m,) int64."""
    z = torch.addmm(b, h, W_out)  # (m, V)
    if temperature != 1.0:
        z.div_(temperature)
    return _draw_inplace(z, u)


def _logits_nll(h: Tensor, y: Tensor, W_out: Tensor, b: Tensor) -> Tensor:
    """One chunk of scoring: -log softmax(h @ W_out + b)[y] = logsumexp(z) - z[y], in place.
    h (m, H), y (m, 1) -> (m,) float32."""
    z = torch.addmm(b, h, W_out)  # (m, V)
    zy = z.gather(1, y).squeeze(1)
    zmax = z.amax(dim=1)
    return z.sub_(zmax[:, None]).exp_().sum(1).log_().add_(zmax) - zy


COMPILE_MODES = ("none", "default", "reduce-overhead")


class _CompiledOrEager:
    """`fn` through torch.compile, falling back to `fn` itself (once, with a warning) when
    compiling or running the compiled code fails (no C++ compiler, an unsupported backend).
    mode: torch.compile's. 'reduce-overhead' uses CUDA graphs on CUDA (a chunk's kernels replay
    with one launch; outputs are cloned, since the next replay overwrites them)."""

    def __init__(self, fn: Callable[..., Tensor], mode: str) -> None:
        self.fn, self.mode, self.failed = fn, mode, False
        self.compiled = torch.compile(fn, dynamic=True, mode=mode)

    def __call__(self, *args: object) -> Tensor:
        if not self.failed:
            try:
                out = self.compiled(*args)
                return out.clone() if self.mode == "reduce-overhead" else out
            except Exception as e:  # noqa: BLE001 - any compiler failure: run eagerly instead
                self.failed = True
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                warnings.warn(
                    f"train.compile={self.mode}: torch.compile of {self.fn.__name__} failed ({type(e).__name__}: "
                    f"{first[:200]}); running eagerly",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self.fn(*args)


class LSTMLM(nn.Module):
    """Single-layer LSTM language model with the original's equations and layout."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int,
                 start_token: int = 0, eos_token: Optional[int] = None, pad_token: int = 0) -> None:
        super().__init__()
        V, E, H = vocab_size, emb_dim, hidden_dim
        self.vocab_size, self.emb_dim, self.hidden_dim = V, E, H
        self.seq_len, self.start_token = seq_len, start_token
        self.eos_token, self.pad_token = eos_token, pad_token
        self.logit_mask: Optional[Tensor]
        if eos_token is None:
            self.logit_mask = None
        else:  # (V,): -inf for the tokens that never occur as outputs
            mask = torch.zeros(V)
            mask[[pad_token, start_token]] = float("-inf")
            self.register_buffer("logit_mask", mask, persistent=False)
        self.embedding = nn.Parameter(torch.empty(V, E))
        self.W = nn.Parameter(torch.empty(E, 4 * H))  # input -> gates [i | f | o | c]
        self.U = nn.Parameter(torch.empty(H, 4 * H))  # hidden -> gates
        self.b = nn.Parameter(torch.empty(4 * H))
        self.W_out = nn.Parameter(torch.empty(H, V))
        self.b_out = nn.Parameter(torch.empty(V))
        # the per-chunk softmax work of sampling and scoring (eager, or compiled by `set_compile`)
        self.compile_mode = "none"
        self._draw: Callable[..., Tensor] = _logits_draw
        self._nll: Callable[..., Tensor] = _logits_nll

    def set_compile(self, mode: str) -> None:
        """`train.compile`: 'none' (eager), 'default' (torch.compile the per-chunk logits + softmax
        work of sampling and of scoring), 'reduce-overhead' (the same with CUDA graphs on CUDA).
        Results equal the eager ones up to float rounding; a failed compilation falls back to eager."""
        if mode not in COMPILE_MODES:
            raise ValueError(f"compile mode {mode!r}: expected one of {COMPILE_MODES}")
        self.compile_mode = mode
        if mode == "none":
            self._draw, self._nll = _logits_draw, _logits_nll
        else:
            self._draw, self._nll = _CompiledOrEager(_logits_draw, mode), _CompiledOrEager(_logits_nll, mode)

    def _output_bias(self) -> Tensor:
        """b_out, with -inf at <pad> and <bos> in variable-length mode. (V,)"""
        return self.b_out if self.logit_mask is None else self.b_out + self.logit_mask

    @torch.no_grad()
    def init_normal(self, std: float, generator: Optional[torch.Generator] = None) -> None:
        """Every parameter, biases and embedding included, ~ N(0, std) (the original's init)."""
        for p in self.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, device=p.device) * std)

    # ------------------------------------------------------------------ one step
    def cell(self, xw: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """One LSTM step. xw = x @ W + b (M, 4H); h, c (M, H) -> h', c' (M, H)."""
        H = self.hidden_dim
        gates = torch.addmm(xw, h, self.U)  # (M, 4H)
        ifo = torch.sigmoid(gates[:, : 3 * H])
        g = torch.tanh(gates[:, 3 * H:])
        c = ifo[:, H: 2 * H] * c + ifo[:, :H] * g
        h = ifo[:, 2 * H:] * torch.tanh(c)
        return h, c

    def logits(self, h: Tensor) -> Tensor:
        """h (..., H) -> logits (..., V) (-inf at <pad> and <bos> in variable-length mode)."""
        b = self._output_bias()
        if h.dim() == 2:
            return torch.addmm(b, h, self.W_out)
        return torch.matmul(h, self.W_out) + b

    @torch.no_grad()
    def sample_next(self, h: Tensor, generator: Optional[torch.Generator] = None,
                    temperature: float = 1.0) -> Tensor:
        """Draw the next token for every row from softmax(logits(h) / temperature).

        Same distribution and random stream as sample_categorical(self.logits(h)), but
        the logits are made ROW_CHUNK rows at a time and overwritten in place, so the
        (M, V) matrix never exists. h (M, H) -> (M,) int64.
        """
        M = h.shape[0]
        u = torch.rand(M, 1, generator=generator, device=h.device, dtype=torch.float32)
        out = torch.empty(M, dtype=torch.long, device=h.device)
        b = self._output_bias()
        for lo in range(0, M, ROW_CHUNK):
            hi = min(lo + ROW_CHUNK, M)
            out[lo:hi] = self._draw(h[lo:hi], u[lo:hi], self.W_out, b, temperature)
        return out

    def inputs(self, tokens: Tensor) -> Tensor:
        """Teacher-forcing inputs: (B, T) tokens -> (B, T) [start, y_1 .. y_{T-1}]."""
        start = torch.full_like(tokens[:, :1], self.start_token)
        return torch.cat([start, tokens[:, :-1]], dim=1)

    # ------------------------------------------------------------------ teacher forcing
    def hidden_states(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced pass. tokens (B, T) -> h, c (B, T, H).

        h[:, t] is the state after reading the start token and y_1..y_t (1-based), i.e.
        the state whose logits give p(y_{t+1} | y_<=t) (0-based: h[:, t] predicts tokens[:, t]).
        """
        B, T = tokens.shape
        xw = F.embedding(self.inputs(tokens), self.embedding) @ self.W + self.b  # (B, T, 4H)
        h = xw.new_zeros(B, self.hidden_dim)
        c = xw.new_zeros(B, self.hidden_dim)
        hs, cs = [], []
        for t in range(T):  # the recurrence itself; everything else is batched over time
            h, c = self.cell(xw[:, t], h, c)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 1), torch.stack(cs, 1)

    def forward(self, tokens: Tensor) -> Tensor:
        """Teacher-forced logits. tokens (B, T) -> (B, T, V); [:, t] scores tokens[:, t]."""
        h, _ = self.hidden_states(tokens)
        return self.logits(h)

    def log_probs(self, tokens: Tensor) -> Tensor:
        """log p(y_t | y_<t) for every position. tokens (B, T) -> (B, T)."""
        return log_probs_from_logits(self(tokens), tokens)

    def mask(self, tokens: Tensor) -> Tensor:
        """Positions each sequence owns: up to and including its first <eos> (every position
        in fixed-length mode). tokens (M, T) -> (M, T) bool."""
        if self.eos_token is None:
            return torch.ones_like(tokens, dtype=torch.bool)
        is_eos = (tokens == self.eos_token).long()
        return (is_eos.cumsum(1) - is_eos) == 0

    def targets(self, tokens: Tensor) -> Tensor:
        """`tokens` with the positions after the end replaced by <eos>, so that every target has
        a finite log-probability (those positions are masked out of every loss)."""
        if self.eos_token is None:
            return tokens
        return tokens.masked_fill(~self.mask(tokens), self.eos_token)

    @torch.no_grad()
    def token_nll(self, tokens: Tensor) -> Tensor:
        """-log p(y_t | y_<t) without autograd, in row chunks. tokens (M, T) -> (M, T) float32.

        Same values as -log_probs(tokens); computed as logsumexp(z) - z[y] with in-place
        buffers so that no (M*T, V) tensor is ever formed. Positions after a sequence's
        <eos> are 0.
        """
        M, T = tokens.shape
        h, _ = self.hidden_states(tokens)  # (M, T, H)
        h, y = h.reshape(M * T, -1), self.targets(tokens).reshape(M * T, 1)
        out = torch.empty(M * T, device=h.device)
        b = self._output_bias()
        for lo in range(0, M * T, ROW_CHUNK):
            out[lo:lo + ROW_CHUNK] = self._nll(h[lo:lo + ROW_CHUNK], y[lo:lo + ROW_CHUNK], self.W_out, b)
        out = out.view(M, T)
        return out if self.eos_token is None else out.masked_fill_(~self.mask(tokens), 0.0)

    @torch.no_grad()
    def nll(self, tokens: Tensor, chunk: int = 2048) -> float:
        """Mean per-token negative log-likelihood (nats) of `tokens` (M, T) under this model
        (variable length: over the positions up to and including each <eos>)."""
        total = 0.0
        for lo in range(0, tokens.shape[0], chunk):
            total += float(self.token_nll(tokens[lo:lo + chunk]).double().sum())
        count = tokens.numel() if self.eos_token is None else int(self.mask(tokens).sum())
        return total / count

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, num: int, generator: Optional[torch.Generator] = None, temperature: float = 1.0,
               batch: int = 2048, seed: Optional[int] = None, compact: Optional[bool] = None) -> Tensor:
        """`num` sequences of length T, all rows in parallel, one categorical draw per step.

        Draws from `generator`, or from a fresh one seeded with `seed` (the same seed gives
        the same samples). Returns (num, T) int64. Rows are drawn `batch` at a time (memory only).
        """
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.W.device).manual_seed(seed)
        xw_table = self.embedding @ self.W + self.b  # (V, 4H): x @ W + b for every token
        out = []
        for lo in range(0, num, batch):
            m = min(batch, num - lo)
            if self.eos_token is not None:
                out.append(self._sample_until_eos(m, xw_table, generator, temperature, compact))
                continue
            h = xw_table.new_zeros(m, self.hidden_dim)
            c = xw_table.new_zeros(m, self.hidden_dim)
            tok = torch.full((m,), self.start_token, dtype=torch.long, device=h.device)
            seq = torch.empty(m, self.seq_len, dtype=torch.long, device=h.device)
            for t in range(self.seq_len):
                h, c = self.cell(xw_table[tok], h, c)
                tok = self.sample_next(h, generator, temperature)
                seq[:, t] = tok
            out.append(seq)
        return torch.cat(out, 0)

    @torch.no_grad()
    def _sample_until_eos(self, m: int, xw_table: Tensor, generator: Optional[torch.Generator],
                          temperature: float, compact: Optional[bool] = None) -> Tensor:
        """m variable-length sequences (m, T): each row stops at its first <eos> and is <pad>
        after it. compact (default: on CPU): finished rows leave the batch, so no work is spent
        on them, at one host sync per step; otherwise (CUDA) every row keeps stepping and what it
        draws after its <eos> is overwritten with <pad>, with no host sync at all."""
        T, eos = self.seq_len, self.eos_token
        assert eos is not None
        if compact is None:
            compact = xw_table.device.type == "cpu"
        seq = torch.full((m, T), self.pad_token, dtype=torch.long, device=xw_table.device)
        rows = torch.arange(m, device=xw_table.device)  # which output row each live row is
        done = torch.zeros(m, dtype=torch.bool, device=xw_table.device)
        h = xw_table.new_zeros(m, self.hidden_dim)
        c = xw_table.new_zeros(m, self.hidden_dim)
        tok = torch.full((m,), self.start_token, dtype=torch.long, device=h.device)
        for t in range(T):
            h, c = self.cell(xw_table[tok], h, c)
            tok = self.sample_next(h, generator, temperature)
            if not compact:
                seq[:, t] = tok.masked_fill(done, self.pad_token)
                done |= tok == eos
                continue
            seq[rows, t] = tok
            live = tok.ne(eos).nonzero().squeeze(1)  # a host sync per step, to shrink the batch
            if live.numel() == 0:
                break
            if live.numel() < tok.numel():
                rows, h, c, tok = rows[live], h[live], c[live], tok[live]
        return seq
