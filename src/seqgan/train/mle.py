"""Generator pre-training by maximum likelihood (reference §1)."""

from __future__ import annotations

import torch
from torch import Tensor

from seqgan.losses import mle_loss
from seqgan.models.lstm import LSTMLM


def mle_epoch(gen: LSTMLM, opt: torch.optim.Optimizer, data: Tensor, batch_size: int, grad_clip: float) -> float:
    """One pass over `data` (M, T) in order, in full batches (the original keeps M // B batches
    and does not shuffle). Returns the mean per-token NLL over the epoch's batches."""
    gen.train()
    num_batches = data.shape[0] // batch_size
    total = torch.zeros((), device=data.device)
    for i in range(num_batches):
        batch = data[i * batch_size:(i + 1) * batch_size]  # (B, T)
        loss = mle_loss(gen.log_probs(batch))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(gen.parameters(), grad_clip)
        opt.step()
        total += loss.detach()
    return float(total) / max(num_batches, 1)
