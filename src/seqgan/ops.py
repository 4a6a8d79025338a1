"""Fused kernels: exact rewrites of plain computations that keep their work in cache.

`linear_cross_entropy(h, W, b, y, weights)` = sum_i weights_i * (-log softmax(h_i W + b)[y_i]),
the output layer and the loss of MLE and of the policy gradient in one pass. The plain
computation forms the (N, V) logits, their log-softmax and, in the backward pass, the
(N, V) gradient, each a round trip of tens of MB through memory for N = 64 x 20 and V = 5,000.
Here the rows are taken a chunk at a time: logits, log-sum-exp, the loss and the gradient
of the chunk are made while the chunk is in cache, and the gradients with respect to h, W
and b are accumulated in the forward pass (the weights are known then), so the backward
pass only scales them by the incoming gradient. Equal to the plain computation up to float
rounding (tests/test_ops.py).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

#: rows of the (rows, V) logits handled at once: 128 x 5,000 floats (2.5 MB) stay in cache
CE_CHUNK = 128


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, h: Tensor, W: Tensor, b: Tensor, y: Tensor, weights: Tensor,  # type: ignore[override]
                bias_mask: Optional[Tensor]) -> Tensor:
        N = h.shape[0]
        need = ctx.needs_input_grad
        dh = torch.empty_like(h) if need[0] else None
        dW = torch.zeros_like(W) if need[1] else None
        db = torch.zeros_like(b) if need[2] else None
        bias = b if bias_mask is None else b + bias_mask
        total = h.new_zeros((), dtype=torch.float64)
        for lo in range(0, N, CE_CHUNK):
            hc, yc, wc = h[lo:lo + CE_CHUNK], y[lo:lo + CE_CHUNK], weights[lo:lo + CE_CHUNK]
            p = torch.addmm(bias, hc, W).float()  # (C, V) logits of the chunk (bf16 matmul under autocast)
            p.sub_(p.amax(dim=1, keepdim=True)).exp_()  # unnormalised probabilities, in place
            s = p.sum(dim=1, keepdim=True)  # (C, 1)
            py = p.gather(1, yc[:, None])  # (C, 1)
            nll = (s.log() - py.log()).squeeze(1)  # (C,) log-sum-exp(z) - z_y
            total += torch.where(wc != 0, nll.double() * wc.double(), 0.0).sum()
            if dh is None and dW is None and db is None:
                continue
            # d(sum_i w_i nll_i) / dz_i = w_i (softmax(z_i) - onehot(y_i))
            p.div_(s).scatter_add_(1, yc[:, None], torch.full_like(py, -1.0)).mul_(wc[:, None].float())
            if dh is not None:
                dh[lo:lo + CE_CHUNK] = p @ W.t()
            if dW is not None:
                dW.addmm_(hc.t().to(dW.dtype), p)
            if db is not None:
                db += p.sum(dim=0)
        ctx.grads = (dh, dW, db)
        return total.to(h.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Optional[Tensor], ...]:  # type: ignore[override]
        dh, dW, db = ctx.grads
        ctx.grads = None
        scale = lambda g: None if g is None else g * grad.to(g.dtype)  # noqa: E731
        return scale(dh), scale(dW), scale(db), None, None, None


def linear_cross_entropy(h: Tensor, W: Tensor, b: Tensor, y: Tensor, weights: Tensor,
                         bias_mask: Optional[Tensor] = None) -> Tensor:
    """sum_i weights_i * (-log softmax(h_i @ W + b + bias_mask)[y_i]), fused (see the module).

    Args:
        h: (N, H) hidden states; W: (H, V); b: (V,); y: (N,) int64 targets;
        weights: (N,) per-row weights (no gradient flows into them): 1/N gives the mean NLL,
            a 0/1 mask over N the masked sum, rewards times a mask the policy-gradient loss.
        bias_mask: (V,) added to b without gradient (-inf at tokens that are never outputs).
    Returns:
        a scalar; its gradient reaches h, W and b.
    """
    return _LinearCrossEntropy.apply(h, W, b, y, weights.detach(), bias_mask)


# ============================================================================ convolution + max-pool

class _ConvMaxPool(torch.autograd.Function):
    """relu(max_s conv_k(emb)[s] + b_k) for every filter width k, with a backward pass through the
    max-pool's sparsity: only the arg-max window of each (sequence, filter) receives a gradient,
    so both gradients are sums over B x F windows instead of B x F x (T - k + 1):

        dW_k[f] = sum_b g[b, f] * window(b, s*(b, f))          (embedding_bag over the windows)
        dwindow(b, s) = sum_{f: s*(b, f) = s} g[b, f] * W_k[f]   (embedding_bag over W_k's rows)

    and the window gradients are folded back onto the T positions. Shapes: emb (B, T, E),
    weights [(n_k, E, k)], biases [(n_k,)] -> (B, sum n_k)."""

    @staticmethod
    def forward(ctx: Any, emb: Tensor, *params: Tensor) -> Tensor:  # type: ignore[override]
        K = len(params) // 2
        weights, biases = params[:K], params[K:]
        x = emb.transpose(1, 2)  # (B, E, T)
        pooled, argmax = [], []
        for w, b in zip(weights, biases):
            conv = torch.nn.functional.conv1d(x, w.to(x.dtype))  # (B, n_k, S); bf16 under autocast
            m, idx = conv.max(dim=2)  # (B, n_k)
            pooled.append((m.float() + b).relu_())
            argmax.append(idx)
        out = torch.cat(pooled, 1)  # (B, F)
        ctx.save_for_backward(emb, out, *argmax, *weights)
        ctx.K = K
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Optional[Tensor], ...]:  # type: ignore[override]
        emb, out, *rest = ctx.saved_tensors
        K = ctx.K
        argmax, weights = rest[:K], rest[K:]
        B, T, E = emb.shape
        dev = emb.device
        rows_of_emb = emb.float().reshape(B * T, E)  # (B*T, E): row b*T + t
        g_all = grad * (out > 0)  # (B, F): through the ReLU
        d_emb = torch.zeros(B * T, E, dtype=torch.float32, device=dev)
        d_w, d_b = [], []
        lo = 0
        base = torch.arange(B, device=dev)[:, None]  # (B, 1)
        for w, idx in zip(weights, argmax):
            n, _, k = w.shape
            S = T - k + 1
            g = g_all[:, lo:lo + n]  # (B, n)
            lo += n
            d_b.append(g.sum(0))
            offs = torch.arange(k, device=dev)
            # dW_k[f, :, j] = sum_b g[b, f] emb[b, s*(b, f) + j]: bag (f, j) holds B rows of emb
            pos = (base * T + idx).t()[:, None, :] + offs[None, :, None]  # (n, k, B) rows of emb
            wts = g.t()[:, None, :].expand(n, k, B)
            dw = torch.nn.functional.embedding_bag(pos.reshape(n * k, B), rows_of_emb, mode="sum",
                                                   per_sample_weights=wts.reshape(n * k, B))  # (n*k, E)
            d_w.append(dw.view(n, k, E).transpose(1, 2).contiguous())
            # window gradients: bag (b, s) sums g[b, f] W_k[f] over the filters f whose arg-max is s
            key = (base * S + idx).reshape(-1)  # (B*n,)
            order = torch.argsort(key, stable=True)
            filt = torch.arange(n, device=dev).repeat(B)[order]
            offsets = torch.zeros(B * S, dtype=torch.long, device=dev)
            offsets[1:] = torch.bincount(key, minlength=B * S).cumsum(0)[:-1]
            w_rows = w.float().permute(0, 2, 1).reshape(n, k * E)  # (n, k*E): [f, j*E + e]
            d_win = torch.nn.functional.embedding_bag(filt, w_rows, offsets, mode="sum",
                                                      per_sample_weights=g.reshape(-1)[order])  # (B*S, k*E)
            # window (b, s), offset j lands on emb row b*T + s + j
            target = ((base * T + torch.arange(S, device=dev))[:, :, None] + offs).reshape(-1)  # (B*S*k,)
            d_emb.index_add_(0, target, d_win.view(B * S * k, E))
        return (d_emb.view(B, T, E), *d_w, *d_b)


def conv_maxpool(emb: Tensor, weights: list[Tensor], biases: list[Tensor]) -> Tensor:
    """Kim-style convolution features with a sparse backward (see `_ConvMaxPool`):
    cat_k relu(max_s conv1d(emb, W_k)[s] + b_k). emb (B, T, E) -> (B, sum n_k)."""
    return _ConvMaxPool.apply(emb, *weights, *biases)
