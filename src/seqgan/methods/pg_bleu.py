"""PG-BLEU, the paper's baseline (reference §6): SeqGAN's loop with the discriminator replaced
by BLEU, and no discriminator trained.

  pre-train G by MLE on the real data S (the same phase as SeqGAN's)
  draw once a random `pg_bleu.reference_share` (40 %) of S as the references
  repeat (adversarial.iterations)
    g-steps: sample Y ~ G; Q(y_t, Y_1:t-1) by `pg_bleu.rollout_num` (1) Monte Carlo rollouts,
             each scored by its sentence BLEU-3 against the references (`pg_bleu.smoothing`: unsmoothed
             by default, as the authors' code); policy-gradient step

With `reward.objective` the reward is reward.mix * BLEU + (1 - reward.mix) * your objective
(ORGAN's mix, `train.steps.with_objective`); at mix = 0 no BLEU is computed. `reward.kind`
(the controls) does not apply: BLEU is not a discriminator.
"""

from __future__ import annotations

import torch

from seqgan.plan import EVALUATE, Build, Models, Part, Phase
from seqgan.rewards import BLEUReward
from seqgan.train.run import STREAM_METHOD, Run, stream_seed
from seqgan.train.steps import adversarial_phase, follow_generator, mle_phase, pg_models, pg_step, with_objective

#: published NLL-oracle by bench task: (value, source)
PUBLISHED = {"oracle": (8.946, "Yu et al. 2017, Table 1")}


def build(b: Build) -> Models:
    return pg_models(b)  # no critic: BLEU is the reward


def plan(run: Run) -> list[Phase]:
    a, c = run.cfg.adversarial, run.cfg.section("pg_bleu")
    bleu = None
    if run.cfg.reward.mix > 0:  # else the objective alone: no BLEU
        n = max(1, round(c.reference_share * run.all_real.shape[0]))
        chosen = torch.randperm(run.all_real.shape[0], generator=torch.Generator().manual_seed(
            stream_seed(run.cfg.seed, STREAM_METHOD)))[:n]  # the same on every rank and on resume
        bleu = BLEUReward(run.all_real[chosen.to(run.all_real.device)], c.max_order, run.gen.eos_token, c.smoothing)
    reward = with_objective(run, bleu)

    def iteration(i: int) -> list[Part]:
        g: list[Part] = [lambda: pg_step(run, reward, c.rollout_num)] * a.generator_steps
        return g + [EVALUATE, lambda: follow_generator(run)]

    return [mle_phase(run), adversarial_phase(run, iteration, desc="PG-BLEU")]
