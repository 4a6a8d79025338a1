"""The LSTM policy of the paper (reference §2): the oracle, the generator and the rollout policy.

Notation: B batch, T length, V vocabulary, E embedding, H hidden, M rows.

Parameters are kept in the original's layout (row vectors times matrices), so the
original's oracle loads without transposes:

    gates = x @ W + h @ U + b            W (E, 4H), U (H, 4H), b (4H); order [i | f | o | c]
    i, f, o = sigmoid(gates[:3H]);  g = tanh(gates[3H:])
    c' = f * c + i * g;  h' = o * tanh(c')
    logits = h' @ W_out + b_out          W_out (H, V), b_out (V)

No peepholes, no forget-bias offset. Step 1's input is the start token's embedding,
step t's input the embedding of token t-1. A state is (h, c); its features are h.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.policies.base import Policy
from seqgan.policies.sampler import State


def lstm_step(xw: Tensor, h: Tensor, c: Tensor, U: Tensor) -> tuple[Tensor, Tensor]:
    """One step of the original's LSTM. xw = x @ W + b (M, 4H); h, c (M, H); U (H, 4H) -> h', c' (M, H)."""
    H = h.shape[1]
    gates = torch.addmm(xw, h, U)  # (M, 4H)
    ifo = torch.sigmoid(gates[:, : 3 * H])
    g = torch.tanh(gates[:, 3 * H:])
    c = ifo[:, H: 2 * H] * c + ifo[:, :H] * g
    h = ifo[:, 2 * H:] * torch.tanh(c)
    return h, c


class LSTMPolicy(Policy):
    """Single-layer LSTM language model with the original's equations and layout."""

    kind = "lstm"

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int,
                 start_token: int = 0, eos_token: Optional[int] = None, pad_token: int = 0) -> None:
        super().__init__(vocab_size, hidden_dim, seq_len, start_token, eos_token, pad_token)
        V, E, H = vocab_size, emb_dim, hidden_dim
        self.emb_dim, self.hidden_dim = E, H
        self.embedding = nn.Parameter(torch.empty(V, E))
        self.W = nn.Parameter(torch.empty(E, 4 * H))  # input -> gates [i | f | o | c]
        self.U = nn.Parameter(torch.empty(H, 4 * H))  # hidden -> gates
        self.b = nn.Parameter(torch.empty(4 * H))
        self.add_output_layer()

    @torch.no_grad()
    def init_normal(self, std: float, generator: Optional[torch.Generator] = None) -> None:
        """Every parameter, biases and embedding included, ~ N(0, std) (the original's init)."""
        for p in (self.embedding, self.W, self.U, self.b, self.W_out, self.b_out):
            p.copy_(torch.randn(p.shape, generator=generator, device=p.device) * std)

    def cell(self, xw: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        """One LSTM step. xw = x @ W + b (M, 4H); h, c (M, H) -> h', c' (M, H)."""
        return lstm_step(xw, h, c, self.U)

    def hidden_states(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher-forced pass. inputs (B, T) -> h, c (B, T, H): h[:, t] has read inputs[:, :t+1]."""
        B, T = inputs.shape
        xw = F.embedding(inputs, self.embedding) @ self.W + self.b  # (B, T, 4H)
        h = xw.new_zeros(B, self.hidden_dim)
        c = xw.new_zeros(B, self.hidden_dim)
        hs, cs = [], []
        for t in range(T):  # the recurrence itself; everything else is batched over time
            h, c = self.cell(xw[:, t], h, c)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 1), torch.stack(cs, 1)

    def features(self, inputs: Tensor) -> Tensor:
        return self.hidden_states(inputs)[0]

    def decoder(self) -> "_LSTMDecoder":
        return _LSTMDecoder(self)

    def prefixes(self, tokens: Tensor) -> "_LSTMPrefixes":
        return _LSTMPrefixes(*self.hidden_states(self.inputs(tokens)))


class _LSTMDecoder:
    def __init__(self, lstm: LSTMPolicy) -> None:
        self.lstm = lstm
        self.xw_table = lstm.embedding @ lstm.W + lstm.b  # (V, 4H): x @ W + b for every token

    def start(self, m: int) -> State:
        zeros = self.xw_table.new_zeros(m, self.lstm.hidden_dim)
        tok = torch.full((m,), self.lstm.start_token, dtype=torch.long, device=zeros.device)
        return self.lstm.cell(self.xw_table[tok], zeros, zeros)

    def step(self, state: State, tokens: Tensor) -> State:
        h, c = state
        return self.lstm.cell(self.xw_table[tokens], h, c)


class _LSTMPrefixes:
    def __init__(self, h: Tensor, c: Tensor) -> None:
        self.h, self.c = h, c  # (B, T, H)

    def state(self, s: int, rows: Tensor) -> State:
        return self.h[rows, s], self.c[rows, s]
