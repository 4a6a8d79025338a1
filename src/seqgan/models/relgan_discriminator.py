"""RelGAN's discriminator: a CNN over (relaxed) one-hot sequences with multiple embedded
representations (Nie et al., ICLR 2019; the authors' models/rmc_vanilla.py `discriminator`,
reference §4).

Notation: B batch, T length, V vocabulary, E embedding (64), R representations (64), w = E / R
units per representation (1), F total filters (4 x 300 = 1,200), Hd the hidden width (100).

    x (B, T, V) one-hot or relaxed one-hot  ->  x @ emb (B, T, E)     token ids: emb[x], the same
    split into R slices (B R, T, w); every slice through the same convolutions:
        for each width k with n_k filters: VALID conv over (k tokens x w) + bias, ReLU, max over
        time -> (B R, n_k)
    z = concat (B R, F)
    highway: t = sigmoid(z Wt);  out = t * relu(z Wh) + (1 - t) * z       (no biases, gate bias 0)
    dropout (keep p) in training mode; fc (F -> Hd, a bias, no nonlinearity); logit (Hd -> 1, a bias)
    -> logits (B, R): one per sequence and representation

Init (the authors'): embedding ~ N(0, 1/V), convolutions N(0, 2/(k w)), highway, fc and logit
N(0, 1/fan_in), all truncated at 2 sd; biases 0. No spectral norm (their default).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn



def _trunc(shape: tuple[int, ...], std: float, generator: Optional[torch.Generator]) -> nn.Parameter:
    p = torch.empty(shape)
    nn.init.trunc_normal_(p, 0.0, std, -2 * std, 2 * std, generator=generator)
    return nn.Parameter(p)


class RelGANDiscriminator(nn.Module):
    """forward: (B, T) token ids or (B, T, V) (relaxed) one-hots -> logits (B, R)."""

    def __init__(self, vocab_size: int, seq_len: int, emb_dim: int = 64, num_rep: int = 64,
                 filter_sizes: tuple[int, ...] | list[int] = (2, 3, 4, 5),
                 num_filters: tuple[int, ...] | list[int] = (300, 300, 300, 300), dropout_keep: float = 0.75,
                 hidden_dim: int = 100, generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        if emb_dim % num_rep:
            raise ValueError(f"emb_dim={emb_dim} must be a multiple of num_rep={num_rep}")
        too_long = [k for k in filter_sizes if k > seq_len]
        if too_long:
            raise ValueError(f"filter_sizes {too_long} exceed the sequence length {seq_len}")
        self.num_rep, self.width, self.seq_len = num_rep, emb_dim // num_rep, seq_len
        self.filter_sizes, self.num_filters = list(filter_sizes), list(num_filters)
        self.dropout_keep = dropout_keep
        w, Fn, g = self.width, sum(num_filters), generator
        self.embedding = _trunc((vocab_size, emb_dim), 1 / math.sqrt(vocab_size), g)
        # convolution weights (n_k, w, k): filter f's weight of unit c at offset j; shared by the R representations
        self.conv_w = nn.ParameterList([_trunc((n, w, k), math.sqrt(2.0 / (k * w)), g)
                                        for k, n in zip(self.filter_sizes, self.num_filters)])
        self.conv_b = nn.ParameterList([nn.Parameter(torch.zeros(n)) for n in self.num_filters])
        # highway: [:, :F] the transform Wh, [:, F:] the gate Wt (two Linears without biases, fused)
        self.highway_w = nn.Parameter(torch.cat([_trunc((Fn, Fn), 1 / math.sqrt(Fn), g).data,
                                                 _trunc((Fn, Fn), 1 / math.sqrt(Fn), g).data], 1))
        self.fc_w, self.fc_b = _trunc((Fn, hidden_dim), 1 / math.sqrt(Fn), g), nn.Parameter(torch.zeros(hidden_dim))
        self.out_w, self.out_b = _trunc((hidden_dim, 1), 1 / math.sqrt(hidden_dim), g), nn.Parameter(torch.zeros(1))

    def embed(self, x: Tensor) -> Tensor:
        """(B, T) ids or (B, T, V) one-hots -> (B, T, E)."""
        if x.dtype in (torch.int64, torch.int32):
            return F.embedding(x, self.embedding)
        return x @ self.embedding

    def forward(self, x: Tensor | Sequence[Tensor], dropout_generator: Optional[torch.Generator] = None) -> Tensor:
        """Logits (B, R). x: one batch, or several (ids and relaxed one-hots, say) scored as one batch in
        their order. Dropout (keep `dropout_keep`) in training mode, drawn from `dropout_generator`."""
        emb = self.embed(x) if isinstance(x, Tensor) else torch.cat([self.embed(p) for p in x])  # (B, T, E)
        B, T, _ = emb.shape
        R, w = self.num_rep, self.width
        slices = emb.view(B, T, R, w).transpose(1, 2)  # (B, R, T, w): the representations
        pooled = []
        for cw, cb in zip(self.conv_w, self.conv_b):  # (n, w, k), (n,)
            n, _, k = cw.shape
            windows = slices.unfold(2, k, 1).reshape(B, R, T - k + 1, w * k)  # (B, R, S, w k): [c k + j]
            conv = windows @ cw.reshape(n, w * k).t()  # (B, R, S, n)
            pooled.append((conv.amax(2) + cb).relu())  # relu(max_s conv + b) = max_s relu(conv + b)
        z = torch.cat(pooled, 2).reshape(B * R, -1)  # (B R, F)
        Fn = z.shape[1]
        hw = z @ self.highway_w  # (B R, 2F)
        t = torch.sigmoid(hw[:, Fn:])
        h = t * torch.relu(hw[:, :Fn]) + (1.0 - t) * z
        if self.training and self.dropout_keep < 1.0:
            keep = torch.rand(h.shape, generator=dropout_generator, device=h.device) < self.dropout_keep
            h = h * keep / self.dropout_keep
        logits = (h @ self.fc_w + self.fc_b) @ self.out_w + self.out_b  # (B R, 1)
        return logits.view(B, R)
