"""Scheduled Sampling (Bengio et al. 2015), the paper's baseline (reference §6).

Maximum likelihood, except that in epoch e each input token is the true previous token with
probability p_e = max(min_p, 1 - decay * e), else the generator's own sample drawn from its
prediction along the same mixed path; the targets stay the true tokens. `p = 1` is MLE.

For each batch the inputs are drawn first, step by step without gradients (`scheduled_inputs`),
then the loss is the teacher-forced NLL of the true tokens given those inputs: the same states
and the same gradient as mixing during the forward pass, since no gradient flows through the
sampling decision.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from seqgan.plan import EVALUATE, Build, Models, Part, Phase
from seqgan.policies import Policy
from seqgan.train.run import Run
from seqgan.train.steps import mle_epoch

#: published NLL-oracle by bench task: (value, source)
PUBLISHED = {"oracle": (8.985, "Yu et al. 2017, Table 1")}


def build(b: Build) -> Models:
    return Models()  # the generator alone


@torch.no_grad()
def scheduled_inputs(gen: Policy, tokens: Tensor, keep: Tensor, rng: Optional[torch.Generator] = None) -> Tensor:
    """The inputs of a batch (B, T): the start token, then at t >= 1 the true tokens[:, t-1] where
    keep[:, t] (B, T bool) is true, else a token drawn from the generator's prediction of
    position t-1 given the inputs before it. keep[:, 0] is ignored (the start token is read)."""
    B, T = tokens.shape
    dec = gen.decoder()
    state = dec.start(B)
    inputs = torch.full_like(tokens, gen.start_token)
    for t in range(1, T):
        sampled = gen.draw(state[0], rng)  # (B,) from the prediction of position t-1
        inputs[:, t] = torch.where(keep[:, t], tokens[:, t - 1], sampled)
        state = dec.step(state, inputs[:, t])
    return inputs


def plan(run: Run) -> list[Phase]:
    ss, rng = run.cfg.section("scheduled_sampling"), run.rngs["train"]

    def mixed(batch: Tensor, p: float) -> Tensor:
        keep = torch.rand(batch.shape, generator=rng, device=rng.device).to(batch.device) < p
        return scheduled_inputs(run.gen, batch, keep, rng)

    def epoch(e: int) -> list[Part]:
        p = max(ss.min_p, 1.0 - ss.decay * e)
        inputs = None if p >= 1.0 else (lambda batch: mixed(batch, p))
        return [lambda: {**mle_epoch(run, inputs), "ss_p": p}, EVALUATE]

    return [Phase("scheduled_sampling", run.cfg.pretrain.generator_epochs, epoch, desc="scheduled sampling",
                  log_line="pre-training...", show=("g_loss", "ss_p"))]
