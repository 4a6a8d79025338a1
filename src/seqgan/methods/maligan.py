"""MaliGAN (Che et al. 2017, arXiv 1702.07983): maximum-likelihood augmented discrete GAN.

The discriminator's output gives a density ratio r(Y) = D(Y) / (1 - D(Y)), which equals
p_data(Y) / p_G(Y) at the optimal D; the generator is trained by importance-weighted maximum
likelihood on its own samples, the weights normalised over a group of m samples (lower variance
than REINFORCE). With mixed MLE (the paper's sequential MaliGAN) each group continues one real
prefix of N tokens, which is trained by teacher forcing, and N falls as training goes on.

  pre-train G by MLE on the real data S; pre-train D on S against G's samples (SeqGAN's phases)
  repeat (adversarial.iterations), with N = max(0, prefix_start - prefix_step * (i // prefix_every))
    g-steps: draw B/m real sequences; keep their first N tokens; m continuations of each from G
             r_i = D(Y_i) / (1 - D(Y_i));   w_i = r_i / sum_{j in i's group} r_j - 1/m  (baseline)
             L = -sum_i w_i sum_{t >= N} log G(y_t | y_<t)  -  1/(B N) sum_i sum_{t < N} log G(y_t | y_<t)
             one clipped Adam step (adversarial.generator_lr)
    d-steps: as SeqGAN's

Settings: section `maligan` (seqgan/methods/options/maligan.py); the rest is SeqGAN's
(`adversarial`, `discriminator`, `pretrain`). No rollouts: the weight is per sequence.

Your objective (`reward.objective`, ORGAN's mix) enters where D's probability does: the
reward p_i = lambda D(Y_i) + (1 - lambda) O(Y_i) w_i (duplicate weight w_i counted in the
g-step's batch) takes D's place before r_i = p_i / (1 - p_i), so O's range must lie in [0, 1]
(the config checks); lambda = 0 weighs the samples by O alone and trains no D.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from seqgan.plan import EVALUATE, Build, Models, Part, Phase
from seqgan.policies import Policy
from seqgan.policies.sampler import generate
from seqgan.rewards import DiscriminatorReward, Reward
from seqgan.section import ConfigError
from seqgan.train.run import Run, run_batch
from seqgan.train.steps import (adversarial_phase, adversarial_reward, build_discriminator, discriminator_phase,
                                discriminator_round, mle_phase, objective_metrics, pg_models, pg_update,
                                uses_discriminator)

#: MaliGAN's paper reports no NLL-oracle on the SeqGAN oracle that we could confirm
PUBLISHED: dict[str, tuple[float, str]] = {}


def build(b: Build) -> Models:
    critic = ("discriminator", build_discriminator(b), b.cfg.discriminator.lr) if uses_discriminator(b.cfg) else None
    return pg_models(b, critic)


def prefix_length(c: Any, iteration: int, T: int) -> int:
    """N at an adversarial iteration: the mixed-MLE schedule, at most T - 1."""
    return min(T - 1, max(0, c.prefix_start - c.prefix_step * (iteration // c.prefix_every)))


@torch.no_grad()
def continue_prefixes(gen: Policy, real: Tensor, N: int, m: int, rng: torch.Generator) -> Tensor:
    """m continuations by `gen` of each real row's first N tokens: (g, T) -> (g m, T), rows of one
    prefix together. N = 0: g m samples from the start token."""
    g, T = real.shape
    if N == 0:
        return gen.sample(g * m, rng)
    rows = real.repeat_interleave(m, 0)  # (g m, T)
    out = rows.clone()
    out[:, N:] = gen.pad_token
    idx = torch.arange(g * m, device=real.device)
    start = gen.prefixes(rows).state(N, idx)  # the state after reading the prefix
    generate(gen, out, lambda s: (idx, start) if s == N else None, N, rng)
    return out


def importance_weights(r: Tensor, m: int, baseline: str) -> Tensor:
    """(B,) density ratios -> (B,) weights normalised within consecutive groups of m:
    w_i = r_i / sum_{j in group} r_j, minus 1/m with the 'mean' baseline."""
    groups = r.view(-1, m)  # (B/m, m)
    w = groups / groups.sum(1, keepdim=True).clamp(min=1e-12)
    if baseline == "mean":
        w = w - 1.0 / m
    return w.reshape(-1)


def density_ratio(p_real: Tensor, weight: str) -> Tensor:
    """r = D / (1 - D) ('ratio', with 1 - D at least 1e-6), or D itself ('prob')."""
    return p_real / (1.0 - p_real).clamp(min=1e-6) if weight == "ratio" else p_real


def maligan_step(run: Run, reward: Reward, N: int) -> dict[str, Any]:
    """One generator step: sample (continuations of real prefixes), weigh, loss, update."""
    c, rng = run.cfg.section("maligan"), run.rngs["train"]
    m = c.samples_per_prefix
    pick = torch.randint(run.real.shape[0], (run.pg_batch // m,), generator=rng, device=rng.device)
    Y = continue_prefixes(run.gen, run.real[pick.to(run.real.device)], N, m, rng)  # (b, T)
    out = maligan_update(run, Y, reward(Y), N)
    out.update(objective_metrics(reward))
    return out


def maligan_update(run: Run, Y: Tensor, d: Tensor, N: int) -> dict[str, Any]:
    """The update on sequences Y (b, T), groups of m consecutive rows, whose discriminator outputs
    are d (b,): L = -sum_i w_i sum_{t>=N} log G(y_t|y_<t) - 1/(B N) sum_{i, t<N} log G(y_t|y_<t),
    B the global batch (under torchrun each rank holds whole groups)."""
    c = run.cfg.section("maligan")
    b, T = Y.shape
    r = density_ratio(d, c.weight)  # (b,)
    w = importance_weights(r, c.samples_per_prefix, c.baseline)  # (b,)
    # per-token coefficients of -log G(y_t | y_<t): the weight after the prefix, the MLE mean on it
    q = w[:, None].expand(b, T).clone()  # (b, T)
    q[:, :N] = 1.0 / (b * run.world.size * N) if N else 0.0
    out = pg_update(run, Y, q, baseline="none", norm="none")
    out.update({"ratio_mean": float(r.mean()), "weight_sd": float(w.std()), "prefix_len": N})
    return out


def check(cfg: Any, sizes: Any, world: Any) -> None:
    """The settings method=maligan cannot run, refused before the run directory is written."""
    a, c = cfg.adversarial, cfg.section("maligan")
    pg_batch = run_batch(cfg, world, a.batch_size)  # this rank's share of the g-step's batch
    if pg_batch % c.samples_per_prefix:
        raise ConfigError(f"maligan.samples_per_prefix={c.samples_per_prefix} must divide the g-step's batch "
                          f"({pg_batch} per process: adversarial.batch_size, else train.batch_size)")


def plan(run: Run) -> list[Phase]:
    a, c = run.cfg.adversarial, run.cfg.section("maligan")
    d = run.disc
    reward = adversarial_reward(run, None if d is None else DiscriminatorReward(d, a.score_chunk, a.score_tables,
                                                                                 run.autocast))

    def iteration(i: int) -> list[Part]:
        N = prefix_length(c, i, run.sizes.seq_len)
        g: list[Part] = [lambda: maligan_step(run, reward, N)] * a.generator_steps
        dsteps: list[Part] = [lambda: discriminator_round(run, a.discriminator_epochs, a.discriminator_samples)]
        return g + [EVALUATE] + (dsteps * a.discriminator_rounds if d is not None else [])

    return ([mle_phase(run)] + ([discriminator_phase(run)] if d is not None else [])
            + [adversarial_phase(run, iteration, desc="MaliGAN")])
