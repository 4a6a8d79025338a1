"""Generator pre-training by maximum likelihood (reference §1)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, Optional

import torch
from torch import Tensor

from seqgan.distributed import SINGLE, World, all_reduce_sum
from seqgan.losses import mle_weights
from seqgan.policies import Policy
from seqgan.perf import Autocast


def mle_epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, data: Tensor, batch_size: int, grad_clip: float,
              world: World = SINGLE, lm: Optional[Policy] = None, autocast: Autocast = nullcontext,
              inputs: Optional[Callable[[Tensor], Tensor]] = None) -> float:
    """One pass over `data` (M, T) in order, in full batches (the original keeps M // B batches
    and does not shuffle). Returns the mean per-token NLL over the epoch's batches.

    `model` is the generator, or its DistributedDataParallel wrapper under torchrun; then
    `data` is this rank's shard and `batch_size` its share of the global batch.

    `autocast` wraps the forward pass (`train.precision`: bf16 on CUDA); the loss is fp32.
    Variable length (`lm`, the generator itself, has an eos_token): the loss is the mean over
    the positions up to and including each <eos> of the global batch; padding never counts.
    `inputs`: maps a batch (B, T) to the tokens the model reads at each step (default: teacher
    forcing, [start, y_1..y_{T-1}]; scheduled sampling mixes in the model's own samples).
    """
    mask_of = lm.mask if lm is not None and lm.eos_token is not None else None
    reduce = (lambda x: all_reduce_sum(x, world))
    model.train()
    num_batches = data.shape[0] // batch_size
    total = torch.zeros((), device=data.device)
    for i in range(num_batches):
        batch = data[i * batch_size:(i + 1) * batch_size]  # (B, T)
        mask = None if mask_of is None else mask_of(batch)  # (B, T)
        weights = mle_weights(batch, mask, reduce, world.size)  # (B, T): the global batch's mean
        with autocast():
            loss = model(batch, weights=weights, inputs=None if inputs is None else inputs(batch))  # fused NLL
        opt.zero_grad(set_to_none=True)
        loss.backward()  # under DDP: gradients averaged over ranks = the global batch's mean loss
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        total += loss.detach()
    return float(all_reduce_sum(total, world)) / world.size / max(num_batches, 1)
