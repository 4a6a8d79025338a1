"""The CNN discriminator equals a hand-written unfold/matmul reference; its L2 term
touches only the output layer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqgan.config import DiscriminatorConfig
from seqgan.losses import discriminator_loss
from seqgan.models import Discriminator


def reference_logits(d: Discriminator, x: torch.Tensor) -> torch.Tensor:
    """Reference §2 written out with unfold and matmul, float64, no dropout."""
    emb = d.embedding.double()[x]  # (B, T, E)
    B, T, E = emb.shape
    pooled = []
    for k, w, b in zip(d.filter_sizes, d.conv_w, d.conv_b):
        windows = emb.unfold(1, k, 1)  # (B, T-k+1, E, k): windows[b, s, e, j] = emb[b, s+j, e]
        conv = windows.reshape(B, T - k + 1, E * k) @ w.double().reshape(w.shape[0], E * k).t() + b.double()
        pooled.append(torch.relu(conv).max(dim=1).values)  # (B, n_k)
    z = torch.cat(pooled, 1)
    Fn = z.shape[1]
    Wh, Wt = d.highway_w.double()[:, :Fn], d.highway_w.double()[:, Fn:]
    bh, bt = d.highway_b.double()[:Fn], d.highway_b.double()[Fn:]
    t = torch.sigmoid(z @ Wt + bt)
    hw = t * torch.relu(z @ Wh + bh) + (1 - t) * z
    return hw @ d.out_w.double() + d.out_b.double()


@pytest.mark.parametrize("cfg, V, T", [
    (DiscriminatorConfig(emb_dim=6, filter_sizes=[1, 2, 3, 7], num_filters=[3, 4, 2, 5]), 11, 7),
    (DiscriminatorConfig(), 5000, 20),  # the paper's discriminator
])
def test_matches_unfold_matmul_reference(cfg, V, T):
    d = Discriminator(cfg, V, T, torch.Generator().manual_seed(0)).eval()
    x = torch.randint(0, V, (9, T), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(d(x).double(), reference_logits(d, x), atol=2e-4, rtol=1e-4)
    probs = d.prob_real(x, chunk=4)
    torch.testing.assert_close(probs.double(), torch.softmax(reference_logits(d, x), 1)[:, 1], atol=1e-5, rtol=0)


def test_init_follows_the_original():
    d = Discriminator(DiscriminatorConfig(), 5000, 20, torch.Generator().manual_seed(0))
    assert sum(w.shape[0] for w in d.conv_w) == 1720
    assert float(d.embedding.detach().min()) >= -1 and float(d.embedding.detach().max()) <= 1
    for w in list(d.conv_w) + [d.out_w]:
        w = w.detach()
        assert float(w.abs().max()) <= 0.2 + 1e-7  # truncated at 2 std
        assert abs(float(w.std()) - 0.088) < 0.01  # std of N(0, 0.1) truncated at 2 sigma
    assert all(torch.all(b == 0.1) for b in d.conv_b) and torch.all(d.out_b == 0.1)
    assert d.highway_w.shape == (1720, 3440)


def test_dropout_only_in_training_and_repeatable(tiny_disc_cfg):
    d = Discriminator(tiny_disc_cfg, 11, 7, torch.Generator().manual_seed(0))
    x = torch.randint(0, 11, (64, 7), generator=torch.Generator().manual_seed(1))
    d.eval()
    assert torch.equal(d(x), d(x))
    d.train()
    a = d(x, torch.Generator().manual_seed(5))
    b = d(x, torch.Generator().manual_seed(5))
    c = d(x, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert d.training  # prob_real restores the mode
    d.prob_real(x)
    assert d.training


def test_l2_touches_only_the_output_layer(tiny_disc_cfg):
    d = Discriminator(tiny_disc_cfg, 11, 7, torch.Generator().manual_seed(0))
    expected = 0.5 * (d.out_w.pow(2).sum() + d.out_b.pow(2).sum())
    torch.testing.assert_close(d.l2_penalty(), expected)
    d.l2_penalty().backward()
    for name, p in d.named_parameters():
        if name in ("out_w", "out_b"):
            torch.testing.assert_close(p.grad, p.detach())  # d/dW of W^2/2
        else:
            assert p.grad is None, name
    # the loss is mean cross-entropy + l2 * penalty
    x = torch.randint(0, 11, (8, 7), generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 1] * 4)
    d.eval()
    logits = d(x)
    torch.testing.assert_close(discriminator_loss(d, logits, y, 0.2),
                               F.cross_entropy(logits, y) + 0.2 * expected)


def test_filter_longer_than_sequence_is_refused():
    with pytest.raises(ValueError, match=r"filter_sizes \[20\] exceed seq_len=10"):
        Discriminator(DiscriminatorConfig(filter_sizes=[2, 20], num_filters=[3, 3]), 50, 10)


@pytest.mark.parametrize("cfg, V, T", [
    (DiscriminatorConfig(emb_dim=6, filter_sizes=[1, 2, 3, 7], num_filters=[3, 4, 2, 5]), 11, 7),
    (DiscriminatorConfig(), 5000, 20),
])
def test_shared_tables_equal_the_convolutions(cfg, V, T):
    """The scoring shortcut (per-(token, offset) tables + embedding_bag sums) is exact."""
    d = Discriminator(cfg, V, T, torch.Generator().manual_seed(0)).eval()
    x = torch.randint(0, V, (300, T), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain, shared = d(x), d(x, tables=d.conv_tables())
        torch.testing.assert_close(shared, plain, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(d.features(x, d.conv_tables()), d.features(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(d.prob_real(x, chunk=128, shared_tables=True),
                               d.prob_real(x, shared_tables=False), atol=1e-5, rtol=0)
    # the table rows are the first layer's work: row j*V + v = embedding[v] @ W_k[:, :, j].T
    k_index = d.filter_sizes.index(max(d.filter_sizes))
    w, table = d.conv_w[k_index], d.conv_tables()[k_index]
    j, v = w.shape[2] - 1, V - 1
    torch.testing.assert_close(table[j * V + v], d.embedding[v] @ w[:, :, j].t())


def test_scoring_chunks_sized_by_the_device(monkeypatch):
    """chunk=0: 4,096 rows on a CPU (the same scores as an explicit chunk); on CUDA a quarter of
    the free memory divided by the per-row estimate, never below 4,096."""
    from seqgan.models import discriminator as dmod
    cfg = DiscriminatorConfig()  # the paper's 1,720 filters
    d = Discriminator(cfg, 5000, 20, torch.Generator().manual_seed(0))
    assert d.auto_score_chunk(torch.device("cpu")) == dmod.CPU_SCORE_CHUNK == 4096
    x = torch.randint(0, 5000, (300, 20), generator=torch.Generator().manual_seed(1))
    assert torch.equal(d.prob_real(x), d.prob_real(x, chunk=4096))
    per_row = d.score_bytes_per_row()
    # the largest width's window sums, (20-2+1) x 200 floats, and the 1,720-wide activations
    assert 4 * (19 * 200 + 8 * 1720) < per_row < 200_000
    free = {"v": 64 << 30}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free["v"], 141 << 30))
    assert d.auto_score_chunk(torch.device("cuda")) == (64 << 30) // 4 // per_row
    assert d.auto_score_chunk(torch.device("cuda")) > 19_456  # a paper g-step's completions in one pass
    free["v"] = 1 << 20
    assert d.auto_score_chunk(torch.device("cuda")) == 4096
