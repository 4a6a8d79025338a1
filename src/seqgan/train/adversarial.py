"""One SeqGAN generator step: sample, rollout rewards, policy gradient (reference §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from seqgan.config import AdversarialConfig
from seqgan.losses import pg_loss
from seqgan.models.discriminator import Discriminator
from seqgan.models.lstm import LSTMLM
from seqgan.rollout import rollout_rewards


@dataclass
class PGStats:
    loss: float
    reward_mean: float


def pg_step(gen: LSTMLM, policy: LSTMLM, disc: Discriminator, opt: torch.optim.Optimizer,
            cfg: AdversarialConfig, batch_size: int, grad_clip: float, rng: torch.Generator) -> PGStats:
    """1. sample B sequences  2. rewards Q (B, T) by rollouts of `policy` scored by `disc`
    3. L = -sum log G(y_t|y_<t) Q[b, t]  4. one Adam step with global-norm clipping."""
    Y = gen.sample(batch_size, rng)  # (B, T)
    q = rollout_rewards(policy, disc, Y, cfg.rollout_num, rng, cfg.score_chunk, cfg.score_tables).rewards  # (B, T)
    gen.train()
    loss = pg_loss(gen.log_probs(Y), q, cfg.reward_baseline, cfg.loss_reduction)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(gen.parameters(), grad_clip)
    opt.step()
    return PGStats(loss=float(loss.detach()), reward_mean=float(q.mean()))


@torch.no_grad()
def update_rollout_policy(policy: LSTMLM, gen: LSTMLM, rate: Optional[float]) -> None:
    """Moving-average rollout copy: theta_roll <- rate * theta_roll + (1 - rate) * theta.
    A departure from the original, whose rollout always reads the live generator."""
    if rate is None or policy is gen:
        return
    for p_roll, p in zip(policy.parameters(), gen.parameters()):
        p_roll.mul_(rate).add_(p, alpha=1.0 - rate)
