"""The policy interface: what generates tokens, for MLE, sampling, rollouts and the policy
gradient (LSTM, GRU, a KV-cached Transformer and LeakGAN's hierarchical policy implement it).

Notation: B batch, T length, V vocabulary, H feature size, M rows.

A policy reads a start token, then one token per step, and after each token gives features
h (H,) whose output layer `h @ W_out + b_out` scores the next token. A kind supplies three
things:

    features(inputs)   (B, T) input tokens -> (B, T, H), causal: teacher forcing, with autograd
    decoder()          a Decoder: start(M) and step(state, tokens), one token per row at a time
    prefixes(tokens)   the teacher-forced states after every prefix of `tokens`, for rollouts

A state may carry whatever a kind needs beside its features (LeakGAN's carries the tokens read
so far, whose discriminator features its Manager reads at every step), so the sampler needs
nothing per kind. The base class does the rest the same way for every kind: the output layer and its
variable-length mask, teacher-forced logits, the fused NLL loss of MLE and the policy
gradient, per-token NLL, and sampling and completions through the one sampler
(`seqgan.policies.sampler`).

Variable length (`eos_token` set): a sequence ends at its first <eos> and is padded with
<pad> after it; <pad> and the start token <bos> get logit -inf (never sampled; the softmax is
over the tokens that can occur); losses and NLL count the positions up to and including the
<eos> only.
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.ops import linear_cross_entropy
from seqgan.policies import sampler
from seqgan.policies.sampler import ROW_CHUNK, State, Temperature


class Decoder(Protocol):
    """Step-by-step generation with the policy's current weights (no autograd)."""

    def start(self, m: int) -> State:
        """The state of m rows after reading the start token: its features predict token 0."""
        ...

    def step(self, state: State, tokens: Tensor) -> State:
        """Read one token per row (M,): the next state, whose features predict the next token."""
        ...


class Prefixes(Protocol):
    """Teacher-forced states of a batch of sequences Y (B, T)."""

    def state(self, s: int, rows: Tensor) -> State:
        """The state of Y[rows] after reading the start token and Y[rows, :s] (features predict Y[rows, s])."""
        ...


COMPILE_MODES = ("none", "default", "reduce-overhead")


#: torch.OutOfMemoryError is torch >= 2.5; before it, CUDA's (a subclass of RuntimeError) is the one
_OOM: type[BaseException] = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


class _CompiledOrEager:
    """`fn` through torch.compile, falling back to `fn` itself (once, with a warning) when the
    compiler is unavailable or fails to build the kernel. Errors of the computation itself
    (out of memory, wrong shapes) are raised, not hidden behind a fallback.
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
            except _OOM:
                raise
            except Exception as e:  # noqa: BLE001 - a compiler failure (checked below): run eagerly
                if not _is_compiler_failure(e):
                    raise
                self.failed = True
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                warnings.warn(
                    f"train.compile={self.mode}: torch.compile of {self.fn.__name__} failed ({type(e).__name__}: "
                    f"{first[:200]}); running eagerly",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self.fn(*args)


def _is_compiler_failure(e: BaseException) -> bool:
    """True for errors raised by torch.compile's machinery (dynamo, inductor, the C++/Triton
    toolchain), not by the computation it compiles."""
    try:
        from torch._dynamo.exc import BackendCompilerFailed, TorchDynamoException
    except ImportError:  # pragma: no cover - very old torch
        return True
    if isinstance(e, (BackendCompilerFailed, TorchDynamoException)):
        return True
    module = type(e).__module__ or ""
    return module.startswith(("torch._dynamo", "torch._inductor", "torch.compiler", "triton"))


class Policy(nn.Module):
    """Base class of the generator kinds and the oracle: the output layer and everything built
    on `features`, `decoder` and `prefixes` (see the module docstring)."""

    kind = "policy"
    input_embedding = "embedding"
    """Name of the input embedding parameter (a moving-average rollout copy copies it instead)."""
    W_out: nn.Parameter
    """(H, V) output weights; registered by `add_output_layer`."""
    b_out: nn.Parameter
    """(V,) output bias."""

    def __init__(self, vocab_size: int, feature_dim: int, seq_len: int, start_token: int = 0,
                 eos_token: Optional[int] = None, pad_token: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.feature_dim, self.seq_len = vocab_size, feature_dim, seq_len
        self.start_token, self.eos_token, self.pad_token = start_token, eos_token, pad_token
        self.logit_mask: Optional[Tensor]
        if eos_token is None:
            self.logit_mask = None
        else:  # (V,): -inf for the tokens that never occur as outputs
            mask = torch.zeros(vocab_size)
            mask[[pad_token, start_token]] = float("-inf")
            self.register_buffer("logit_mask", mask, persistent=False)
        # the per-chunk softmax work of sampling and scoring (eager, or compiled by `set_compile`)
        self.compile_mode = "none"
        self._draw: Callable[..., Tensor] = sampler.logits_draw
        self._nll: Callable[..., Tensor] = sampler.logits_nll

    def add_output_layer(self) -> None:
        """W_out (H, V) and b_out (V,), registered after a kind's own parameters (parameter order
        decides the order of float sums in clipping, and checkpoints index optimizer states by it)."""
        self.W_out = nn.Parameter(torch.empty(self.feature_dim, self.vocab_size))
        self.b_out = nn.Parameter(torch.empty(self.vocab_size))

    # ------------------------------------------------------------------ what a kind supplies
    def features(self, inputs: Tensor) -> Tensor:
        """Teacher-forced features. inputs (B, T) tokens read at each step -> (B, T, H)."""
        raise NotImplementedError

    def decoder(self) -> Decoder:
        raise NotImplementedError

    def prefixes(self, tokens: Tensor) -> Prefixes:
        raise NotImplementedError

    def companions(self) -> dict[str, nn.Module]:
        """Other models of the run that this policy reads when it generates and scores, by their
        checkpoint prefix (LeakGAN: the discriminator whose features it leaks); they are not its
        parameters. The run saves them beside it (`<name>.safetensors`, `<name>_mle.safetensors`)
        and `seqgan.load` restores them from the same source. None for LSTM, GRU, Transformer."""
        return {}

    # ------------------------------------------------------------------ shared
    def set_compile(self, mode: str) -> None:
        """`train.compile`: 'none' (eager), 'default' (torch.compile the per-chunk logits + softmax
        work of sampling and of scoring), 'reduce-overhead' (the same with CUDA graphs on CUDA).
        Results equal the eager ones up to float rounding; a failed compilation falls back to eager."""
        if mode not in COMPILE_MODES:
            raise ValueError(f"compile mode {mode!r}: expected one of {COMPILE_MODES}")
        self.compile_mode = mode
        if mode == "none":
            self._draw, self._nll = sampler.logits_draw, sampler.logits_nll
        else:
            self._draw = _CompiledOrEager(sampler.logits_draw, mode)
            self._nll = _CompiledOrEager(sampler.logits_nll, mode)

    def output_bias(self) -> Tensor:
        """b_out, with -inf at <pad> and <bos> in variable-length mode. (V,)"""
        return self.b_out if self.logit_mask is None else self.b_out + self.logit_mask

    def logits(self, h: Tensor) -> Tensor:
        """h (..., H) -> logits (..., V) (-inf at <pad> and <bos> in variable-length mode)."""
        b = self.output_bias()
        if h.dim() == 2:
            return torch.addmm(b, h, self.W_out)
        return torch.matmul(h, self.W_out) + b

    def inputs(self, tokens: Tensor) -> Tensor:
        """Teacher-forcing inputs: (B, T) tokens -> (B, T) [start, y_1 .. y_{T-1}]."""
        start = torch.full_like(tokens[:, :1], self.start_token)
        return torch.cat([start, tokens[:, :-1]], dim=1)

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

    def forward(self, tokens: Tensor, weights: Optional[Tensor] = None, inputs: Optional[Tensor] = None) -> Tensor:
        """Teacher-forced logits. tokens (B, T) -> (B, T, V); [:, t] scores tokens[:, t].

        With `weights` (B, T): instead the weighted negative log-likelihood
        sum_{b,t} weights[b, t] * -log p(tokens[b, t] | inputs[b, :t+1]) (a scalar), through the
        fused output layer + cross-entropy (`seqgan.ops.linear_cross_entropy`), which never forms
        the (B, T, V) logits. A loss through `forward` keeps a DistributedDataParallel wrapper's
        gradient hooks: MLE and the policy gradient train with it.
        `inputs` (B, T): the tokens read at each step (default `self.inputs(tokens)`; scheduled
        sampling mixes in the policy's own samples)."""
        h = self.features(self.inputs(tokens) if inputs is None else inputs)  # (B, T, H)
        if weights is None:
            return self.logits(h)
        B, T = tokens.shape
        return linear_cross_entropy(h.reshape(B * T, -1), self.W_out, self.b_out, self.targets(tokens).reshape(-1),
                                    weights.reshape(-1), self.logit_mask)

    def log_probs(self, tokens: Tensor) -> Tensor:
        """log p(y_t | y_<t) for every position. tokens (B, T) -> (B, T)."""
        return log_probs_from_logits(self(tokens), self.targets(tokens))

    @torch.no_grad()
    def draw(self, h: Tensor, generator: Optional[torch.Generator] = None, temperature: float = 1.0) -> Tensor:
        """Draw the next token for every row from softmax(logits(h) / temperature).

        Same distribution and random stream as sampler.sample_categorical(self.logits(h)), but
        the logits are made ROW_CHUNK rows at a time and overwritten in place, so the (M, V)
        matrix never exists. h (M, H) -> (M,) int64.
        """
        M = h.shape[0]
        u = torch.rand(M, 1, generator=generator, device=h.device, dtype=torch.float32)
        out = torch.empty(M, dtype=torch.long, device=h.device)
        b = self.output_bias()
        for lo in range(0, M, ROW_CHUNK):
            hi = min(lo + ROW_CHUNK, M)
            out[lo:hi] = self._draw(h[lo:hi], u[lo:hi], self.W_out, b, temperature)
        return out

    @torch.no_grad()
    def token_nll(self, tokens: Tensor, temperature: float = 1.0) -> Tensor:
        """-log p(y_t | y_<t) without autograd, in row chunks. tokens (M, T) -> (M, T) float32.

        Computed as logsumexp(z) - z[y] with in-place buffers so that no (M*T, V) tensor is ever
        formed. Positions after a sequence's <eos> are 0. `temperature`: of softmax(logits / T).

        Variable length: an <eos> at the last position costs 0. The sampler writes it there
        whatever is drawn (T positions hold max_len tokens and their <eos>), so the distribution
        the generator samples, and whose likelihood NLL-test and NLL-oracle report, gives it
        probability 1: exp(-row sum) is the exact probability of drawing the row, and these sum to
        1 over every sequence (tests/test_varlen.py). MLE still trains p(<eos> | max_len tokens),
        a logit no sample reads.
        """
        M, T = tokens.shape
        h = self.features(self.inputs(tokens))  # (M, T, H)
        h, y = h.reshape(M * T, -1), self.targets(tokens).reshape(M * T, 1)
        W: Tensor = self.W_out
        b = self.output_bias()
        if temperature != 1.0:  # logits / T = h @ (W / T) + b / T
            W, b = W / temperature, b / temperature
        out = torch.empty(M * T, device=h.device)
        for lo in range(0, M * T, ROW_CHUNK):
            out[lo:lo + ROW_CHUNK] = self._nll(h[lo:lo + ROW_CHUNK], y[lo:lo + ROW_CHUNK], W, b)
        out = out.view(M, T)
        if self.eos_token is None:
            return out
        out[:, -1].masked_fill_(tokens[:, -1] == self.eos_token, 0.0)  # the forced <eos>: probability 1
        return out.masked_fill_(~self.mask(tokens), 0.0)

    @torch.no_grad()
    def nll(self, tokens: Tensor, chunk: int = 2048, temperature: float = 1.0) -> float:
        """Mean per-token negative log-likelihood (nats) of `tokens` (M, T) under this model
        (variable length: over the positions up to and including each <eos>)."""
        total = 0.0
        for lo in range(0, tokens.shape[0], chunk):
            total += float(self.token_nll(tokens[lo:lo + chunk], temperature).double().sum())
        count = tokens.numel() if self.eos_token is None else int(self.mask(tokens).sum())
        return total / count

    @torch.no_grad()
    def sample(self, num: int, generator: Optional[torch.Generator] = None, temperature: Temperature = 1.0,
               batch: int = 2048, seed: Optional[int] = None, compact: Optional[bool] = None) -> Tensor:
        """`num` sequences (num, T) int64 from softmax(logits / temperature), all rows in parallel
        (`temperature`: one, or one per step).

        Draws from `generator`, or from a fresh one seeded with `seed` (the same seed gives the
        same samples). Rows are drawn `batch` at a time (memory only)."""
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.W_out.device).manual_seed(seed)
        return sampler.sample(self, num, generator, temperature, batch, compact)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def log_probs_from_logits(logits: Tensor, tokens: Tensor) -> Tensor:
    """log softmax(logits)[token] at every position. logits (B, T, V), tokens (B, T) -> (B, T)."""
    B, T, V = logits.shape
    return -F.cross_entropy(logits.reshape(B * T, V), tokens.reshape(B * T), reduction="none").view(B, T)
