"""RankGAN (Lin et al., NIPS 2017, arXiv 1705.11001): adversarial ranking for language generation.

A ranker (`seqgan.models.ranker`) replaces the binary discriminator: it encodes sentences with
the paper's CNN and ranks a sentence among a comparison set by its cosine relevance to real
reference sentences, log R(s | U, C) = mean_u log softmax_{s' in C + {s}}(gamma cos(y_s', y_u))[s].

  pre-train G by MLE on the real data S
  pre-train the ranker: each batch half real, half generated; the real rows are ranked among the
     generated ones (C-), the generated among the real (C+), against |U| fresh references;
     minimise -E_real log R(s | U, C-) - E_gen log(1 - R(s | U, C+))
  repeat (adversarial.iterations)
    g-steps: draw U and a comparison set C of real sequences; sample Y ~ G; Q(y_t, Y_1:t-1) by
             Monte Carlo rollouts (SeqGAN's), each completion scored by log R(. | U, C);
             policy-gradient step on -sum_t log G(y_t | Y_1:t-1) Q
    d-steps: ranker rounds as in pre-training, fresh negatives

Settings: section `rankgan` (seqgan/methods/options/rankgan.py); the encoder is the
`discriminator` section's CNN; schedules, rollouts and learning rates are SeqGAN's sections.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

import torch
from torch import Tensor

from seqgan.models.ranker import Ranker
from seqgan.perf import Autocast
from seqgan.plan import EVALUATE, Build, Models, Part, Phase
from seqgan.rewards.rank import RankReward
from seqgan.train.run import STREAM_DISCRIMINATOR_INIT, Run
from seqgan.train.steps import (adversarial_phase, adversarial_reward, discriminator_phase, follow_generator,
                                mle_phase, pg_models, pg_step, uses_discriminator)

#: published NLL-oracle by bench task: (value, source)
PUBLISHED = {"oracle": (8.247, "Lin et al. 2017, synthetic-data table; read second-hand, not in the paper itself"),
             "oracle40": (9.958, "Guo et al. 2018, Table 1, their own length-40 oracle; not verified here")}


def build(b: Build) -> Models:
    if not uses_discriminator(b.cfg):  # a reward control: no ranker
        return pg_models(b)
    ranker = Ranker(b.cfg.discriminator, b.sizes.vocab_size, b.sizes.seq_len, b.cfg.section("rankgan").gamma,
                    torch.Generator().manual_seed(b.init_seed(STREAM_DISCRIMINATOR_INIT)))
    return pg_models(b, ("ranker", ranker, b.cfg.discriminator.lr))


def ranker_step(ranker: Ranker, model: torch.nn.Module, opt: torch.optim.Optimizer, real: Tensor, fake: Tensor,
                refs: Tensor, autocast: Autocast = nullcontext) -> Tensor:
    """One ranker update on h real and h generated rows with U references: the real ranked among the
    generated, the generated among the real (`Ranker.loss`). `model` is the ranker or its DDP wrapper;
    under torchrun each rank ranks within its own share. Returns the loss (no host sync)."""
    h = real.shape[0]
    with autocast():
        feats = model(torch.cat([real, fake, refs])).float()  # one pass: (2h + U, F)
    loss = ranker.loss(feats[:h], feats[h:2 * h], feats[2 * h:])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.detach()


def ranker_round(run: Run, epochs: int, samples: int) -> dict[str, Any]:
    """As many fresh negatives as real sequences (`samples`, 0: all), `epochs` passes in batches of
    half real, half generated rows, each with |U| fresh references."""
    c, rng, h = run.cfg.section("rankgan"), run.rngs["train"], run.batch // 2
    ranker, model, opt = run.models["ranker"], run.trained("ranker"), run.optimizers["ranker"]
    assert isinstance(ranker, Ranker)
    t0 = time.perf_counter()
    n = run.share(samples)
    real = run.real
    if 0 < n < real.shape[0]:
        real = real[torch.randperm(real.shape[0], generator=rng, device=rng.device)[:n].to(real.device)]
    fake = run.gen.sample(real.shape[0], rng)  # (M, T)
    total = torch.zeros((), device=real.device)
    steps = 0
    ranker.train()
    for _ in range(epochs):
        order_r = torch.randperm(real.shape[0], generator=rng, device=rng.device).to(real.device)
        order_f = torch.randperm(fake.shape[0], generator=rng, device=rng.device).to(real.device)
        for i in range(real.shape[0] // h):
            xr, xf = real[order_r[i * h:(i + 1) * h]], fake[order_f[i * h:(i + 1) * h]]  # (h, T) each
            refs = run.real[torch.randint(run.real.shape[0], (c.reference_size,), generator=rng,
                                          device=rng.device).to(real.device)]  # (U, T)
            total += ranker_step(ranker, model, opt, xr, xf, refs, run.autocast)
            steps += 1
    from seqgan.distributed import all_reduce_sum
    mean_loss = float(all_reduce_sum(total, run.world)) / run.world.size / max(steps, 1)
    return {"d_loss": mean_loss, "d_steps_s": round(time.perf_counter() - t0, 3)}


def plan(run: Run) -> list[Phase]:
    a, c = run.cfg.adversarial, run.cfg.section("rankgan")
    ranker = run.models.get("ranker")
    rank = RankReward(ranker, log=c.reward == "log") if isinstance(ranker, Ranker) else None
    reward = adversarial_reward(run, rank)

    def g_step() -> dict[str, Any]:
        if rank is not None:  # U and C for this step
            rank.draw(run.real, c.reference_size, c.comparison_size, run.rngs["train"])
        return pg_step(run, reward)

    def iteration(i: int) -> list[Part]:
        g: list[Part] = [g_step] * a.generator_steps
        dsteps: list[Part] = [lambda: ranker_round(run, a.discriminator_epochs, a.discriminator_samples)]
        return g + [EVALUATE, lambda: follow_generator(run)] + (dsteps * a.discriminator_rounds if rank else [])

    return ([mle_phase(run)]
            + ([discriminator_phase(run, lambda e, n: ranker_round(run, e, n))] if rank is not None else [])
            + [adversarial_phase(run, iteration, desc="RankGAN")])
