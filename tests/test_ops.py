"""The fused kernels of seqgan.ops equal the plain computations they replace (values and
gradients, to float tolerance): linear + cross-entropy, and convolution + max-pool with the
max-pool's sparse backward (padded sequences with tied windows included)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqgan.ops import CE_CHUNK, conv_maxpool, linear_cross_entropy


@pytest.mark.parametrize("N", [7, CE_CHUNK, 3 * CE_CHUNK + 5])
def test_linear_cross_entropy_equals_the_plain_loss_and_gradients(N):
    g = torch.Generator().manual_seed(N)
    H, V = 9, 300
    h = torch.randn(N, H, generator=g, dtype=torch.float64).float().requires_grad_()
    W = (torch.randn(H, V, generator=g) * 0.5).requires_grad_()
    b = torch.randn(V, generator=g).requires_grad_()
    y = torch.randint(2, V, (N,), generator=g)
    w = torch.randn(N, generator=g)
    w[::3] = 0.0  # masked rows
    mask = torch.zeros(V)
    mask[[0, 1]] = float("-inf")  # tokens that are never outputs
    fused = linear_cross_entropy(h, W, b, y, w, mask)
    plain = (F.cross_entropy(h @ W + b + mask, y, reduction="none") * w).sum()
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-4)
    for a, c in zip(torch.autograd.grad(fused * 1.7, [h, W, b]), torch.autograd.grad(plain * 1.7, [h, W, b])):
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-5)
    assert torch.autograd.grad(linear_cross_entropy(h, W, b, y, w, mask), [b])[0][[0, 1]].abs().max() == 0


def test_a_masked_target_with_zero_weight_contributes_nothing():
    """A zero-weight row whose target has probability 0 (-inf logit) gives no NaN."""
    h = torch.randn(3, 4, requires_grad=True)
    W = torch.randn(4, 6, requires_grad=True)
    b = torch.zeros(6, requires_grad=True)
    mask = torch.zeros(6)
    mask[0] = float("-inf")
    loss = linear_cross_entropy(h, W, b, torch.tensor([0, 2, 3]), torch.tensor([0.0, 1.0, 1.0]), mask)
    loss.backward()
    assert torch.isfinite(loss) and all(torch.isfinite(t.grad).all() for t in (h, W, b))


def plain_conv(emb, ws, bs):
    e = emb.transpose(1, 2)
    return torch.cat([F.conv1d(e, w, b).relu().amax(2) for w, b in zip(ws, bs)], 1)


@pytest.mark.parametrize("padded", [False, True], ids=["random tokens", "padded sequences (tied windows)"])
def test_conv_maxpool_equals_the_plain_convolutions(padded):
    g = torch.Generator().manual_seed(3)
    V, E, B, T = 40, 6, 9, 12
    ks, ns = [1, 2, 3, 5, 12], [4, 6, 3, 5, 2]
    table = torch.randn(V, E, generator=g).requires_grad_()
    ws = [(torch.randn(n, E, k, generator=g) * 0.4).requires_grad_() for k, n in zip(ks, ns)]
    bs = [(torch.randn(n, generator=g) * 0.1).requires_grad_() for n in ns]
    x = torch.randint(3, V, (B, T), generator=g)
    if padded:  # sequences ending early, <pad> (0) after: windows made only of <pad> tie
        lengths = torch.randint(1, T, (B,), generator=g)
        x = x.masked_fill(torch.arange(T)[None, :] >= lengths[:, None], 0)
    up = torch.randn(B, sum(ns), generator=g)
    ours = conv_maxpool(F.embedding(x, table), ws, bs)
    ref = plain_conv(F.embedding(x, table), ws, bs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    # gradients reach the embedding table, weights and biases equally (ties between windows of
    # the same tokens give the same table gradient whichever window takes it)
    for a, c in zip(torch.autograd.grad((ours * up).sum(), [table, *ws, *bs]),
                    torch.autograd.grad((ref * up).sum(), [table, *ws, *bs])):
        torch.testing.assert_close(a, c, atol=1e-4, rtol=1e-4)


def test_the_discriminator_trains_through_the_sparse_path_and_scores_through_the_plain_one():
    from seqgan.config import DiscriminatorConfig
    from seqgan.models import Discriminator
    import seqgan.models.discriminator as dm
    d = Discriminator(DiscriminatorConfig(emb_dim=8, filter_sizes=[1, 3], num_filters=[5, 4]), 30, 6,
                      torch.Generator().manual_seed(0))
    x = torch.randint(0, 30, (4, 6), generator=torch.Generator().manual_seed(1))
    calls = []
    orig = dm.conv_maxpool
    dm.conv_maxpool = lambda *a: calls.append(1) or orig(*a)
    try:
        d.eval()
        with_grad = d(x)
        with torch.no_grad():
            no_grad = d(x)
    finally:
        dm.conv_maxpool = orig
    assert len(calls) == 1  # the training path only
    torch.testing.assert_close(with_grad.detach(), no_grad, atol=1e-5, rtol=1e-5)
