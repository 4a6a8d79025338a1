"""A GRU policy (Cho et al. 2014), the LSTM's single-layer sibling with the same layout.

Notation: B batch, T length, V vocabulary, E embedding, H hidden, M rows.

    r, z = sigmoid(x @ W[:, :2H] + h @ U[:, :2H] + b[:2H])       W (E, 3H), U (H, 3H), b (3H)
    n = tanh(x @ W[:, 2H:] + (r * h) @ U[:, 2H:] + b[2H:])
    h' = (1 - z) * n + z * h;  logits = h' @ W_out + b_out

A state is (h,); its features are h. Every parameter ~ N(0, init_std), as the LSTM generator.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.policies.base import Policy
from seqgan.policies.sampler import State


class GRUPolicy(Policy):
    kind = "gru"

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int,
                 start_token: int = 0, eos_token: Optional[int] = None, pad_token: int = 0) -> None:
        super().__init__(vocab_size, hidden_dim, seq_len, start_token, eos_token, pad_token)
        V, E, H = vocab_size, emb_dim, hidden_dim
        self.emb_dim, self.hidden_dim = E, H
        self.embedding = nn.Parameter(torch.empty(V, E))
        self.W = nn.Parameter(torch.empty(E, 3 * H))  # input -> [r | z | n]
        self.U = nn.Parameter(torch.empty(H, 3 * H))  # hidden -> [r | z | n]
        self.b = nn.Parameter(torch.empty(3 * H))
        self.add_output_layer()

    @torch.no_grad()
    def init_normal(self, std: float, generator: Optional[torch.Generator] = None) -> None:
        """Every parameter ~ N(0, std), as the LSTM generator."""
        for p in (self.embedding, self.W, self.U, self.b, self.W_out, self.b_out):
            p.copy_(torch.randn(p.shape, generator=generator, device=p.device) * std)

    def cell(self, xw: Tensor, h: Tensor) -> Tensor:
        """One GRU step. xw = x @ W + b (M, 3H); h (M, H) -> h' (M, H)."""
        H = self.hidden_dim
        rz = torch.sigmoid(torch.addmm(xw[:, : 2 * H], h, self.U[:, : 2 * H]))  # (M, 2H)
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(torch.addmm(xw[:, 2 * H:], r * h, self.U[:, 2 * H:]))
        return (1 - z) * n + z * h

    def features(self, inputs: Tensor) -> Tensor:
        B, T = inputs.shape
        xw = F.embedding(inputs, self.embedding) @ self.W + self.b  # (B, T, 3H)
        h = xw.new_zeros(B, self.hidden_dim)
        hs = []
        for t in range(T):
            h = self.cell(xw[:, t], h)
            hs.append(h)
        return torch.stack(hs, 1)  # (B, T, H)

    def decoder(self) -> "_GRUDecoder":
        return _GRUDecoder(self)

    def prefixes(self, tokens: Tensor) -> "_GRUPrefixes":
        return _GRUPrefixes(self.features(self.inputs(tokens)))


class _GRUDecoder:
    def __init__(self, gru: GRUPolicy) -> None:
        self.gru = gru
        self.xw_table = gru.embedding @ gru.W + gru.b  # (V, 3H)

    def start(self, m: int) -> State:
        h = self.xw_table.new_zeros(m, self.gru.hidden_dim)
        tok = torch.full((m,), self.gru.start_token, dtype=torch.long, device=h.device)
        return (self.gru.cell(self.xw_table[tok], h),)

    def step(self, state: State, tokens: Tensor) -> State:
        return (self.gru.cell(self.xw_table[tokens], state[0]),)


class _GRUPrefixes:
    def __init__(self, h: Tensor) -> None:
        self.h = h  # (B, T, H)

    def state(self, s: int, rows: Tensor) -> State:
        return (self.h[rows, s],)
