"""The CNN discriminator D_phi (reference §2; Kim-style CNN with a highway layer).

Notation: B batch, T sequence length, E embedding, F total filters (1,720 in the paper).

    x (B, T) -> embedding (B, T, E), U(-1, 1) init
    for each width k with n_k filters: VALID conv over (k tokens x E) + bias, ReLU,
        max over time -> (B, n_k)                       weights trunc-normal(0.1), bias 0.1
    z = concat (B, F)
    highway: t = sigmoid(z Wt + bt); out = t * relu(z Wh + bh) + (1 - t) * z
        Wh, Wt, bh, bt ~ Glorot-uniform (TF1's default initializer, as the original)
    dropout (keep p, training only), linear F -> 2 (trunc-normal(0.1), bias 0.1)
    class 1 = "real"; D(Y) = softmax(logits)[:, 1]
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqgan.config import DiscriminatorConfig, paper_filters
from seqgan.ops import conv_maxpool


#: from this many sequences on, `prob_real` scores through the shared convolution tables
TABLES_MIN_ROWS = 1024
#: rows per scoring pass on a CPU when `prob_real(chunk=0)` sizes the chunks itself
CPU_SCORE_CHUNK = 4096
#: share of the free GPU memory that one scoring pass may take when sizing chunks itself
GPU_SCORE_MEMORY_SHARE = 0.25


def _trunc_normal(shape: tuple[int, ...], std: float, generator: Optional[torch.Generator]) -> Tensor:
    """N(0, std) truncated at 2 std by redrawing (TF's truncated_normal)."""
    x = torch.randn(shape, generator=generator)
    bad = x.abs() > 2.0
    while bool(bad.any()):
        x[bad] = torch.randn(int(bad.sum()), generator=generator)
        bad = x.abs() > 2.0
    return x * std


def _glorot_uniform(shape: tuple[int, ...], fan_in: int, fan_out: int,
                    generator: Optional[torch.Generator]) -> Tensor:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(shape, generator=generator) * 2 - 1) * limit


class Discriminator(nn.Module):
    """Binary sequence classifier; `forward` gives logits (B, 2), `prob_real` D(Y) (B,)."""

    def __init__(self, cfg: DiscriminatorConfig, vocab_size: int, seq_len: int,
                 generator: Optional[torch.Generator] = None) -> None:
        super().__init__()
        sizes, nums = paper_filters(seq_len) if cfg.filter_sizes is None else (cfg.filter_sizes, cfg.num_filters)
        assert nums is not None
        if cfg.filter_scale != 1.0:  # a smaller (or larger) discriminator, same widths
            nums = [max(1, round(n * cfg.filter_scale)) for n in nums]
        too_long = [k for k in sizes if k > seq_len]
        if too_long:
            raise ValueError(f"discriminator.filter_sizes {too_long} exceed seq_len={seq_len}")
        E, Fn = cfg.emb_dim, sum(nums)
        self.filter_sizes = list(sizes)
        self.num_filters = list(nums)
        self.dropout_keep = cfg.dropout_keep
        self.seq_len = seq_len
        g = generator
        self.embedding = nn.Parameter(torch.rand(vocab_size, E, generator=g) * 2 - 1)  # U(-1, 1)
        # conv weights in F.conv1d layout (n_k, E, k)
        self.conv_w = nn.ParameterList(
            [nn.Parameter(_trunc_normal((n, k, E), 0.1, g).permute(0, 2, 1).contiguous())
             for k, n in zip(self.filter_sizes, self.num_filters)])
        self.conv_b = nn.ParameterList([nn.Parameter(torch.full((n,), 0.1)) for n in self.num_filters])
        # highway, both linear maps fused into one (F, 2F) matmul: [:, :F] -> Wh, [:, F:] -> Wt
        self.highway_w = nn.Parameter(torch.cat(
            [_glorot_uniform((Fn, Fn), Fn, Fn, g), _glorot_uniform((Fn, Fn), Fn, Fn, g)], 1))
        self.highway_b = nn.Parameter(torch.cat(
            [_glorot_uniform((Fn,), Fn, Fn, g), _glorot_uniform((Fn,), Fn, Fn, g)]))
        self.out_w = nn.Parameter(_trunc_normal((Fn, 2), 0.1, g))
        self.out_b = nn.Parameter(torch.full((2,), 0.1))

    @torch.no_grad()
    def conv_tables(self) -> list[Tensor]:
        """The first layer's work per (token, offset), shared by every sequence scored.

        The convolution is linear in the embeddings: window s of width k gives
        sum_j embedding[x_{s+j}] @ W_k[:, :, j].T, so with the table
        P_k[j * V + v] = embedding[v] @ W_k[:, :, j].T  (one (V, E) @ (E, k * n_k) matmul)
        the window is a sum of k table rows. Returns, per width k, P_k of shape (k * V, n_k).
        """
        V, E = self.embedding.shape
        tables = []
        for w in self.conv_w:  # (n, E, k)
            n, _, k = w.shape
            t = self.embedding @ w.permute(1, 2, 0).reshape(E, k * n)  # (V, k*n): [v, j*n + f]
            tables.append(t.view(V, k, n).transpose(0, 1).reshape(k * V, n))  # (k*V, n)
        return tables

    def _pooled_from_tables(self, x: Tensor, tables: list[Tensor]) -> Tensor:
        """Same values as the convolution + ReLU + max-pool, from `conv_tables()`:
        one embedding_bag sum of k rows per window, then relu(max_s(conv) + b), which
        equals max_s relu(conv + b) since both maps are monotone. x (B, T) -> (B, F)."""
        B, T = x.shape
        V = self.embedding.shape[0]
        pooled = []
        for k, table, b in zip(self.filter_sizes, tables, self.conv_b):
            offsets = torch.arange(k, device=x.device) * V  # row j*V + token
            idx = (x.unfold(1, k, 1) + offsets).reshape(-1, k)  # (B*(T-k+1), k)
            conv = F.embedding_bag(idx, table, mode="sum").view(B, T - k + 1, -1)  # (B, T-k+1, n_k)
            pooled.append(conv.amax(1).add_(b).relu_())  # (B, n_k)
        return torch.cat(pooled, 1)

    def features(self, x: Tensor, tables: Optional[list[Tensor]] = None) -> Tensor:
        """Conv + max-pool + highway features. x (B, T) int -> (B, F).
        With `tables` (from `conv_tables()`, no autograd) the convolutions are table sums."""
        if tables is not None:
            z = self._pooled_from_tables(x, tables)
        elif torch.is_grad_enabled():  # training: the max-pool's sparse backward (exact, seqgan.ops)
            z = conv_maxpool(F.embedding(x, self.embedding), list(self.conv_w), list(self.conv_b))  # (B, F)
        else:
            emb = F.embedding(x, self.embedding).transpose(1, 2)  # (B, E, T)
            pooled = [F.conv1d(emb, w, b).relu_().amax(dim=2)  # (B, n_k, T-k+1) -> (B, n_k)
                      for w, b in zip(self.conv_w, self.conv_b)]
            z = torch.cat(pooled, 1)  # (B, F)
        Fn = z.shape[1]
        hw = torch.addmm(self.highway_b, z, self.highway_w)  # (B, 2F)
        t = torch.sigmoid(hw[:, Fn:])
        return t * torch.relu(hw[:, :Fn]) + (1.0 - t) * z  # (B, F)

    def forward(self, x: Tensor, dropout_generator: Optional[torch.Generator] = None,
                tables: Optional[list[Tensor]] = None) -> Tensor:
        """Logits (B, 2). Dropout (keep `dropout_keep`) only in training mode, drawn from
        `dropout_generator` so that runs repeat exactly."""
        h = self.features(x, tables)
        if self.training and self.dropout_keep < 1.0:
            keep = torch.rand(h.shape, generator=dropout_generator, device=h.device) < self.dropout_keep
            h = h * keep / self.dropout_keep
        return torch.addmm(self.out_b, h, self.out_w)

    def l2_penalty(self) -> Tensor:
        """sum(W_out^2)/2 + sum(b_out^2)/2: the original's L2 term, output layer only."""
        return 0.5 * (self.out_w.pow(2).sum() + self.out_b.pow(2).sum())

    def score_bytes_per_row(self) -> int:
        """An upper estimate of the memory one scored sequence takes in a scoring pass: the
        largest width's window sums (or convolution outputs) and their indices, and the
        pooled, highway and output activations, doubled for temporaries."""
        T = self.seq_len
        windows = max((T - k + 1) * n for k, n in zip(self.filter_sizes, self.num_filters))
        indices = max((T - k + 1) * k for k in self.filter_sizes) * 2  # int64 = 2 float32
        return 2 * 4 * (windows + indices + 8 * sum(self.num_filters) + T * self.embedding.shape[1])

    def auto_score_chunk(self, device: torch.device) -> int:
        """Rows per scoring pass for `prob_real(chunk=0)`: CPU_SCORE_CHUNK on a CPU; on CUDA as
        many as fit in GPU_SCORE_MEMORY_SHARE of the free memory (at least CPU_SCORE_CHUNK), so
        that a generator step's completions are scored in one pass with few kernel launches."""
        if device.type != "cuda":
            return CPU_SCORE_CHUNK
        free, _ = torch.cuda.mem_get_info(device)
        return max(CPU_SCORE_CHUNK, int(free * GPU_SCORE_MEMORY_SHARE) // self.score_bytes_per_row())

    @torch.no_grad()
    def prob_real(self, x: Tensor, chunk: int = 0, shared_tables: Optional[bool] = None) -> Tensor:
        """D(x) = p(real | x) without dropout, in chunks of `chunk` rows. x (M, T) -> (M,).

        chunk: rows per forward pass; 0 sizes them with `auto_score_chunk` (4,096 on a CPU).
        shared_tables: score through `conv_tables()` (exact; pays off from about a thousand
        sequences, e.g. the rollout's 19,456 completions); None decides by size.
        """
        if chunk <= 0:
            chunk = self.auto_score_chunk(x.device)
        if shared_tables is None:
            shared_tables = x.shape[0] >= TABLES_MIN_ROWS
        was_training = self.training
        self.eval()
        try:
            tables = self.conv_tables() if shared_tables else None
            out = [torch.softmax(self(x[lo:lo + chunk], tables=tables), dim=1)[:, 1]
                   for lo in range(0, x.shape[0], chunk)]
        finally:
            self.train(was_training)
        return torch.cat(out)


class PaddedDiscriminator(Discriminator):
    """LeakGAN's discriminator (CR-Gjx/LeakGAN, Discriminator.py): the same CNN with one more
    embedding row for 'no token yet', so that it also reads prefixes. Row 0 is that padding
    and token v is row v + 1: inputs are ids in -1..V-1, -1 marking the positions a prefix has
    not reached. D(Y) and the features of whole sequences are those of the plain CNN with the
    shifted embedding; `features` of a prefix padded with -1 is the feature LeakGAN leaks."""

    def __init__(self, cfg: DiscriminatorConfig, vocab_size: int, seq_len: int,
                 generator: Optional[torch.Generator] = None) -> None:
        super().__init__(cfg, vocab_size + 1, seq_len, generator)
        self._tables: tuple[list[Tensor], list[Tensor]] = ([], [])  # (the weights they were made of, the tables)

    def features(self, x: Tensor, tables: Optional[list[Tensor]] = None) -> Tensor:
        """x (B, T) ids in -1..V-1 -> (B, F), as `Discriminator.features` of x + 1."""
        return super().features(x + 1, tables)

    @torch.no_grad()
    def conv_tables(self) -> list[Tensor]:
        """`Discriminator.conv_tables`, made again only when the embedding or a convolution has changed
        since (compared exactly with a copy of the weights they were made of): the generator reads
        them at every sampling step and every teacher-forced batch, while D changes only in its own
        rounds. The tables must not be modified."""
        weights = [self.embedding, *self.conv_w]
        made_of, tables = self._tables
        if tables and all(a.device == b.device and torch.equal(a, b) for a, b in zip(made_of, weights)):
            return tables
        self._tables = ([w.detach().clone() for w in weights], super().conv_tables())
        return self._tables[1]

