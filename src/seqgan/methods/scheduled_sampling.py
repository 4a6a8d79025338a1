"""Scheduled Sampling (Bengio et al. 2015), the paper's baseline (reference §6).

Maximum likelihood, except that in epoch e each input token is the true previous token with
probability p_e = max(min_p, start_p - decay * e), else the generator's own sample drawn from its
prediction along the same mixed path; the targets stay the true tokens. `p = 1` is MLE.

`scheduled_sampling.coin=per_run` runs it as the authors' code did: their coin is
`tf.constant(random.random())`, drawn once when the graph is built (0.3975 after their
random.seed(88)) and compared with the rate in every epoch, so each epoch is either teacher
forcing throughout (u < p_e) or the generator's samples throughout. Their rate starts at 0.998
(`start_p`) and falls 0.002 per epoch to 0.4 at epoch 299, never below their u: their Scheduled
Sampling row is 300 epochs of teacher forcing. Here u is drawn once from the run's seed
(STREAM_METHOD), so a resumed run draws the same u.

For each batch the inputs are drawn first, step by step without gradients (`scheduled_inputs`),
then the loss is the teacher-forced NLL of the true tokens given those inputs: the same states
and the same gradient as mixing during the forward pass, since no gradient flows through the
sampling decision.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import Tensor

from seqgan.plan import EVALUATE, SCHEDULED_SAMPLING, Build, Models, Part, Phase
from seqgan.policies import Policy
from seqgan.train.run import STREAM_METHOD, Run, stream_seed
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


def run_coin(seed: int) -> float:
    """The per-run coin u in [0, 1) of `coin=per_run`: one draw from the seed's STREAM_METHOD, the same
    on every rank and on resume."""
    return torch.rand((), generator=torch.Generator().manual_seed(stream_seed(seed, STREAM_METHOD))).item()


def plan(run: Run) -> list[Phase]:
    ss, rng = run.cfg.section("scheduled_sampling"), run.rngs["train"]
    u = run_coin(run.cfg.seed) if ss.coin == "per_run" else None

    def mixed(batch: Tensor, p: float) -> Tensor:
        keep = torch.rand(batch.shape, generator=rng, device=rng.device).to(batch.device) < p
        return scheduled_inputs(run.gen, batch, keep, rng)

    def sampled(batch: Tensor) -> Tensor:  # per_run, u >= p: the generator's samples everywhere
        return scheduled_inputs(run.gen, batch, torch.zeros_like(batch, dtype=torch.bool), rng)

    def epoch(e: int) -> list[Part]:
        p = max(ss.min_p, ss.start_p - ss.decay * e)
        inputs: Optional[Callable[[Tensor], Tensor]]
        if u is not None:
            inputs = None if u < p else sampled
        else:
            inputs = None if p >= 1.0 else (lambda batch: mixed(batch, p))
        return [lambda: {**mle_epoch(run, inputs), "ss_p": p}, EVALUATE]

    return [Phase(SCHEDULED_SAMPLING, run.cfg.pretrain.generator_epochs, epoch, desc="scheduled sampling",
                  log_line="pre-training...", show=("g_loss", "ss_p"))]
