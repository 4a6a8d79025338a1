"""PG-BLEU, the paper's baseline (reference §6): SeqGAN's loop with the discriminator replaced
by BLEU, and no discriminator trained.

  pre-train G by MLE on the real data S (the same phase as SeqGAN's)
  draw once a random `pg_bleu.reference_share` (40 %) of S as the references
  repeat (adversarial.iterations)
    g-steps: sample Y ~ G; Q(y_t, Y_1:t-1) by `pg_bleu.rollout_num` (1) Monte Carlo rollouts,
             each scored by its sentence BLEU-3 against the references; policy-gradient step
"""

from __future__ import annotations

import torch

from seqgan.rewards import BLEUReward
from seqgan.train.phases import follow_generator, g_step, mle_phase, start_rollout_copy
from seqgan.train.run import EVALUATE, STREAM_METHOD, MethodNeeds, Part, Phase, Run, stream_seed

NEEDS = MethodNeeds(policy_gradient=True)


def plan(run: Run) -> list[Phase]:
    a, c = run.cfg.adversarial, run.cfg.pg_bleu
    n = max(1, round(c.reference_share * run.all_real.shape[0]))
    chosen = torch.randperm(run.all_real.shape[0], generator=torch.Generator().manual_seed(
        stream_seed(run.cfg.seed, STREAM_METHOD)))[:n]  # the same on every rank and on resume
    reward = BLEUReward(run.all_real[chosen.to(run.all_real.device)], c.max_order, run.gen.eos_token)

    def iteration(i: int) -> list[Part]:
        g: list[Part] = [lambda: g_step(run, reward, c.rollout_num)] * a.generator_steps
        return g + [EVALUATE, lambda: follow_generator(run)]

    return [mle_phase(run),
            Phase("adversarial", a.iterations, iteration, desc="PG-BLEU", log_line="adversarial training...",
                  on_start=lambda: start_rollout_copy(run), show=("reward_mean",))]
