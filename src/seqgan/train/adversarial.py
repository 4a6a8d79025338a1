"""The policy-gradient generator step of SeqGAN and PG-BLEU: sample, rollout rewards, update (reference §3)."""

from __future__ import annotations

from dataclasses import dataclass
from contextlib import nullcontext
from typing import Optional

import torch
from torch import Tensor

from seqgan.config import AdversarialConfig
from seqgan.distributed import SINGLE, World, all_reduce_sum
from seqgan.losses import pg_weights
from seqgan.policies import Policy
from seqgan.rewards import Reward
from seqgan.perf import Autocast
from seqgan.rollout import rollout_rewards


@dataclass
class PGStats:
    loss: float
    """The policy-gradient loss of the global batch."""
    reward_mean: float
    """Mean of Q over the global batch and all positions."""
    grad_norm: float = float("nan")
    """Global norm of the policy gradient before clipping (`train.grad_clip`)."""
    Y: Optional[Tensor] = None
    """(b, T) this rank's sampled sequences (`pg_step`)."""
    q: Optional[Tensor] = None
    """(b, T) their rewards Q."""


def pg_update(model: torch.nn.Module, opt: torch.optim.Optimizer, Y: Tensor, q: Tensor, baseline: str,
              reduction: str, grad_clip: float, world: World = SINGLE, lm: Optional[Policy] = None,
              autocast: Autocast = nullcontext, norm: str = "none") -> PGStats:
    """L = -sum_{b,t} log G(y_t|y_<t) Q[b, t] on (Y, Q), one Adam step with global-norm clipping.

    `model` is the generator or, under torchrun, its DistributedDataParallel wrapper; Y (b, T)
    and q (b, T) are then this rank's share of the global batch, and the step equals the
    single-process step on the whole batch: DDP averages gradients over the K ranks, so a
    'sum' loss is scaled by K, and the 'mean' baseline and 'std' norm use the global batch's
    statistics.

    Variable length (`lm`, the generator, has an eos_token): positions after each <eos> carry
    no reward and no gradient; the 'mean' baseline and reduction count owned positions only.
    """
    model.train()
    mask = lm.mask(Y) if lm is not None and lm.eos_token is not None else None  # (b, T)
    reduce = (lambda x: all_reduce_sum(x, world)) if world.distributed else (lambda x: x)
    weights = pg_weights(q, baseline, reduction, mask, norm, reduce, world.size)  # (b, T)
    # L = sum_{b,t} w[b, t] * -log G(y_t | y_<t), through the fused output layer
    with autocast():  # train.precision: bf16
        scaled = model(Y, weights=weights)
    loss = scaled / world.size if reduction == "sum" else scaled
    opt.zero_grad(set_to_none=True)
    scaled.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)  # before clipping
    opt.step()
    owned = q.new_tensor(float(q.numel())) if mask is None else mask.sum().float()
    sums = all_reduce_sum(torch.stack([loss.detach(), q.sum(), owned]), world).tolist()
    total_loss = sums[0] if reduction == "sum" else sums[0] / world.size
    return PGStats(loss=total_loss, reward_mean=sums[1] / sums[2], grad_norm=float(grad_norm))


def pg_step(gen: Policy, policy: Policy, reward: Reward, opt: torch.optim.Optimizer,
            cfg: AdversarialConfig, batch_size: int, grad_clip: float, rng: torch.Generator,
            model: Optional[torch.nn.Module] = None, world: World = SINGLE, autocast: Autocast = nullcontext,
            rollout_num: Optional[int] = None) -> PGStats:
    """1. sample B sequences  2. rewards Q (B, T) by `rollout_num` (default cfg.rollout_num)
    rollouts of `policy` scored by `reward`  3. L = -sum log G(y_t|y_<t) Q[b, t]  4. one Adam
    step with global-norm clipping. Under torchrun `batch_size` is this rank's share and only
    its rows are rolled out."""
    Y = gen.sample(batch_size, rng)  # (B, T)
    q = rollout_rewards(policy, reward, Y, rollout_num or cfg.rollout_num, rng).rewards  # (B, T)
    stats = pg_update(model if model is not None else gen, opt, Y, q, cfg.reward_baseline, cfg.loss_reduction,
                      grad_clip, world, gen, autocast, cfg.reward_norm)
    stats.Y, stats.q = Y, q
    return stats


@torch.no_grad()
def update_rollout_policy(policy: Policy, gen: Policy, rate: Optional[float]) -> None:
    """Moving-average rollout copy: theta_roll <- rate * theta_roll + (1 - rate) * theta for every
    parameter but the input embedding, which is copied, as the original's ROLLOUT class reads the
    live embedding. A departure from what the original runs (its sampling reads the live
    generator, so the delay never takes effect)."""
    if rate is None or policy is gen:
        return
    for (name, p_roll), p in zip(policy.named_parameters(), gen.parameters()):
        if name == policy.input_embedding:
            p_roll.copy_(p)
        else:
            p_roll.mul_(rate).add_(p, alpha=1.0 - rate)
