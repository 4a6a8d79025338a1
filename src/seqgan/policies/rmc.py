"""The relational memory core (Santoro et al. 2018) as RelGAN's generator (Nie et al., ICLR 2019),
with the equations of the authors' code (weilinie/RelGAN utils/models/relational_memory.py and
models/rmc_vanilla.py; reference §4).

Notation: B batch, T length, V vocabulary, E embedding, N memory slots, nh heads, hs head size,
D = nh hs the memory width, F = nh (2 hs + hs) the query-key-value width, M rows.

One step reads a token x_t and the memory m (M, N, D):

    u = emb[x_t] @ W_in + b_in                                    (M, D)   the input, projected
    a = [m; u]                                                    (M, N+1, D) an extra memory row
    qkv = LN(a @ W_qkv)                                           (M, N+1, F) no bias
    per head: q, k, v = split(qkv_head, [hs, hs, hs]);  q *= (2 hs + hs)^-1/2
    a1 = LN(a + concat_heads(softmax(q k^T) v))                   (M, N+1, D)
    a2 = LN(a1 + relu(a1 @ W_1 + b_1) @ W_2 + b_2)                the 2-layer MLP, width D
    i, f = split(u @ W_gu + tanh(m) @ W_gm, 2)                    (M, N, 2D) no biases
    m' = sigmoid(i + 0) * tanh(a2[:, :N]) + sigmoid(f + 1) * m     LSTM-style gates, forget bias 1
    features = m'.flatten  (M, N D);  logits = features @ W_out + b_out

Every LN ("tf.contrib.layers.layer_norm" as the authors call it, begin_norm_axis=1) normalises
each row's whole (N+1, width) block at once, mean and variance over the memory rows and the units
together (epsilon 1e-12), then applies a gain and a bias per unit. The queries are scaled by the
whole per-head q-k-v width (2 hs + hs)^-1/2 = 768^-1/2 at hs = 256, as the authors' code does,
not by hs^-1/2. The initial memory is the N x N identity padded with zeros to (N, D).

Teacher forcing runs the recurrence over time (the memory carries every step) with the input
projection and its gate term batched over all positions. A state is (features (M, N D), memory
(M, N, D)); rollouts start from the teacher-forced memories of a prefix.

Init (the authors'): every weight matrix and the embedding ~ N(0, 1/fan_in) truncated at two
standard deviations (the embedding's fan_in is V), biases 0, layer-norm gains 1 and biases 0.
`generator.init_std` does not apply to this kind.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.policies.base import Policy
from seqgan.policies.sampler import State

#: the authors' gate biases (RelationalMemory's defaults): forget 1, input 0
FORGET_BIAS, INPUT_BIAS = 1.0, 0.0
#: tf.contrib.layers.layer_norm's variance epsilon
LN_EPS = 1e-12


def block_layer_norm(x: Tensor, gain: Tensor, bias: Tensor) -> Tensor:
    """x (M, R, C) normalised over each row's whole (R, C) block, then * gain (C,) + bias (C,)."""
    return F.layer_norm(x, x.shape[-2:], eps=LN_EPS) * gain + bias


class RMCPolicy(Policy):
    """RelGAN's relational-memory generator (see the module docstring)."""

    kind = "rmc"

    def __init__(self, vocab_size: int, emb_dim: int, seq_len: int, mem_slots: int = 1, num_heads: int = 2,
                 head_size: int = 256, start_token: int = 0, eos_token: Optional[int] = None,
                 pad_token: int = 0) -> None:
        N, nh, hs = mem_slots, num_heads, head_size
        D = nh * hs
        super().__init__(vocab_size, N * D, seq_len, start_token, eos_token, pad_token)
        self.emb_dim, self.mem_slots, self.num_heads, self.head_size, self.mem_size = emb_dim, N, nh, hs, D
        Fq = nh * 3 * hs
        self.embedding = nn.Parameter(torch.empty(vocab_size, emb_dim))
        self.W_in = nn.Parameter(torch.empty(emb_dim, D))  # the input's projection, with a bias
        self.b_in = nn.Parameter(torch.empty(D))
        self.W_qkv = nn.Parameter(torch.empty(D, Fq))  # no bias; per head [q | k | v] contiguous
        self.ln_qkv_g, self.ln_qkv_b = nn.Parameter(torch.empty(Fq)), nn.Parameter(torch.empty(Fq))
        self.ln1_g, self.ln1_b = nn.Parameter(torch.empty(D)), nn.Parameter(torch.empty(D))
        self.W_1, self.b_1 = nn.Parameter(torch.empty(D, D)), nn.Parameter(torch.empty(D))
        self.W_2, self.b_2 = nn.Parameter(torch.empty(D, D)), nn.Parameter(torch.empty(D))
        self.ln2_g, self.ln2_b = nn.Parameter(torch.empty(D)), nn.Parameter(torch.empty(D))
        self.W_gu = nn.Parameter(torch.empty(D, 2 * D))  # gates from the projected input [i | f], no bias
        self.W_gm = nn.Parameter(torch.empty(D, 2 * D))  # gates from tanh(memory), no bias
        self.initial_memory: Tensor
        initial = torch.zeros(N, D)
        initial[:, :min(N, D)] = torch.eye(N)[:, :min(N, D)]
        self.register_buffer("initial_memory", initial, persistent=False)
        self.add_output_layer()

    @torch.no_grad()
    def init_authors(self, generator: Optional[torch.Generator] = None) -> None:
        """Matrices ~ N(0, 1/fan_in) truncated at 2 sd (embedding: fan_in V), biases 0, LN gains 1."""
        for name, p in self.named_parameters():
            if name.startswith("ln") and name.endswith("_g"):
                p.fill_(1.0)
            elif p.dim() == 1:
                p.zero_()
            else:
                std = 1.0 / math.sqrt(p.shape[0])  # (fan_in, fan_out) layout; the embedding's rows are V
                nn.init.trunc_normal_(p, 0.0, std, -2 * std, 2 * std, generator=generator)

    # ------------------------------------------------------------------ the recurrence
    def _attend(self, a: Tensor) -> Tensor:
        """The attention block and MLP over the memory and its input row. a (M, R, D) -> (M, R, D)."""
        M, R, D = a.shape
        nh, hs = self.num_heads, self.head_size
        qkv = block_layer_norm(a @ self.W_qkv, self.ln_qkv_g, self.ln_qkv_b)  # (M, R, F)
        q, k, v = qkv.view(M, R, nh, 3 * hs).transpose(1, 2).split(hs, dim=3)  # (M, nh, R, hs) each
        w = torch.softmax((q * (3 * hs) ** -0.5) @ k.transpose(2, 3), dim=3)  # (M, nh, R, R)
        att = (w @ v).transpose(1, 2).reshape(M, R, D)
        a = block_layer_norm(a + att, self.ln1_g, self.ln1_b)
        mlp = torch.relu(a @ self.W_1 + self.b_1) @ self.W_2 + self.b_2
        return block_layer_norm(a + mlp, self.ln2_g, self.ln2_b)

    def cell(self, u: Tensor, gu: Tensor, m: Tensor) -> Tensor:
        """One step. u (M, D) the projected input, gu = u @ W_gu (M, 2D), m (M, N, D) -> m' (M, N, D)."""
        N, D = self.mem_slots, self.mem_size
        nxt = self._attend(torch.cat([m, u[:, None]], 1))[:, :N]  # (M, N, D): the input row is dropped
        gates = torch.tanh(m) @ self.W_gm + gu[:, None]  # (M, N, 2D)
        i = torch.sigmoid(gates[..., :D] + INPUT_BIAS)
        f = torch.sigmoid(gates[..., D:] + FORGET_BIAS)
        return i * torch.tanh(nxt) + f * m

    def _project(self, tokens: Tensor) -> tuple[Tensor, Tensor]:
        """tokens (...) -> u (..., D), u @ W_gu (..., 2D)."""
        u = F.embedding(tokens, self.embedding) @ self.W_in + self.b_in
        return u, u @ self.W_gu

    def memories(self, inputs: Tensor) -> Tensor:
        """Teacher-forced pass. inputs (B, T) -> memories (B, T, N, D): [:, t] has read inputs[:, :t+1]."""
        B, T = inputs.shape
        u, gu = self._project(inputs)  # (B, T, D), (B, T, 2D): batched over time
        m = self.initial_memory.expand(B, -1, -1)
        out = []
        for t in range(T):  # the recurrence itself
            m = self.cell(u[:, t], gu[:, t], m)
            out.append(m)
        return torch.stack(out, 1)

    def features(self, inputs: Tensor) -> Tensor:
        B, T = inputs.shape
        return self.memories(inputs).reshape(B, T, -1)

    def decoder(self) -> "_RMCDecoder":
        return _RMCDecoder(self)

    def prefixes(self, tokens: Tensor) -> "_RMCPrefixes":
        return _RMCPrefixes(self.memories(self.inputs(tokens)))


class _RMCDecoder:
    def __init__(self, model: RMCPolicy) -> None:
        self.model = model

    def start(self, m: int) -> State:
        M = self.model
        tok = torch.full((m,), M.start_token, dtype=torch.long, device=M.W_out.device)
        mem = M.initial_memory.expand(m, -1, -1)
        return self.step((mem.reshape(m, -1), mem), tok)

    def step(self, state: State, tokens: Tensor) -> State:
        u, gu = self.model._project(tokens)
        mem = self.model.cell(u, gu, state[1])
        return mem.reshape(mem.shape[0], -1), mem


class _RMCPrefixes:
    def __init__(self, mem: Tensor) -> None:
        self.mem = mem  # (B, T, N, D)

    def state(self, s: int, rows: Tensor) -> State:
        m = self.mem[rows, s]
        return m.reshape(m.shape[0], -1), m
