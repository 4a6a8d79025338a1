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
