"""The steps methods are built from, bound to a `Run` (its models, optimizers, random streams,
torchrun wrappers and precision): each does one unit or part of a phase and returns its
metrics. The computations themselves are the pure functions of `train/mle.py`,
`train/discriminator.py` and `train/adversarial.py`.

    mle_epoch(run)                          one epoch of maximum likelihood (or scheduled sampling)
    discriminator_round(run, epochs, n)     fresh negatives + real sequences, `epochs` passes
    g_step(run, reward, rollout_num)        sample, rollout rewards, policy-gradient step
    follow_generator(run)                   the moving-average rollout copy follows the generator
    mle_phase(run), discriminator_phase(run) the pre-training phases SeqGAN and PG-BLEU share
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import torch
from torch import Tensor

from seqgan.config import to_dict
from seqgan.diagnostics import reward_stats
from seqgan.files import save_weights
from seqgan.rewards import Reward
from seqgan.train import adversarial, discriminator, mle
from seqgan.train.run import EVALUATE, Phase, Run


def mle_epoch(run: Run, inputs: Optional[Callable[[Tensor], Tensor]] = None) -> dict[str, Any]:
    """One MLE epoch over the real data in order; `inputs` as `train.mle.mle_epoch`."""
    t0 = time.perf_counter()
    loss = mle.mle_epoch(run.gen_model or run.gen, run.optimizers["mle"], run.real, run.batch,
                         run.cfg.train.grad_clip, run.world, run.gen, run.autocast, inputs)
    sequences = (run.real.shape[0] // run.batch) * run.batch * run.world.size
    return {"g_loss": loss, "samples_per_s": round(sequences / (time.perf_counter() - t0), 1)}


def discriminator_round(run: Run, epochs: int, samples: int) -> dict[str, Any]:
    """Fresh negatives from the generator and `samples` real sequences (0: all), `epochs` passes."""
    assert run.disc is not None, "this method has no discriminator"
    d = run.cfg.discriminator
    t0 = time.perf_counter()
    r = discriminator.discriminator_round(run.disc, run.optimizers["discriminator"], run.gen, run.real, epochs,
                                          run.batch, d.l2, run.rngs["train"], run.share(samples), run.disc_model,
                                          run.world, run.autocast, d.negatives, d.label_smoothing)
    return {"d_loss": r.loss, "d_acc_real": r.acc_real, "d_acc_fake": r.acc_fake,
            "d_steps_s": round(time.perf_counter() - t0, 3)}


def g_step(run: Run, reward: Reward, rollout_num: Optional[int] = None) -> dict[str, Any]:
    """One policy-gradient step: sample, rewards by rollouts of the rollout policy, update."""
    t0 = time.perf_counter()
    s = adversarial.pg_step(run.gen, run.policy, reward, run.optimizers["pg"], run.cfg.adversarial, run.pg_batch,
                            run.cfg.train.grad_clip, run.rngs["train"], run.gen_model, run.world, run.autocast,
                            rollout_num)
    out: dict[str, Any] = {"g_loss": s.loss, "reward_mean": s.reward_mean, "pg_grad_norm": s.grad_norm,
                           "g_step_s": round(time.perf_counter() - t0, 3)}
    if run.cfg.train.diagnostics and run.oracle is not None:  # this rank's batch
        assert s.Y is not None and s.q is not None
        stats = reward_stats(s.q, run.oracle.log_probs(s.Y))
        out.update({k: v for k, v in stats.items() if k != "reward_mean"})  # the step's own mean stays
    return out


def follow_generator(run: Run) -> dict[str, Any]:
    """The moving-average rollout copy takes its step towards the generator (no-op without one)."""
    adversarial.update_rollout_policy(run.policy, run.gen, run.cfg.adversarial.rollout_update_rate)
    return {}


def save_mle_baseline(run: Run) -> None:
    """generator_mle.safetensors: the generator at the end of MLE pre-training (rank 0)."""
    if run.world.is_main:
        save_weights(run.run_dir / "generator_mle.safetensors", run.gen,
                     {"format": "seqgan", "config": to_dict(run.cfg), "stage": "mle"})


def mle_phase(run: Run) -> Phase:
    """`pretrain.generator_epochs` epochs of maximum likelihood, evaluated every `train.eval_every`;
    at its end the generator is saved as the run's MLE baseline."""
    return Phase("mle", run.cfg.pretrain.generator_epochs, lambda epoch: [lambda: mle_epoch(run), EVALUATE],
                 desc="MLE", log_line="pre-training...", on_end=lambda: save_mle_baseline(run), show=("g_loss",))


def discriminator_phase(run: Run) -> Phase:
    """`pretrain.discriminator_rounds` rounds of discriminator pre-training."""
    p = run.cfg.pretrain
    return Phase("discriminator", p.discriminator_rounds,
                 lambda r: [lambda: discriminator_round(run, p.discriminator_epochs, p.discriminator_samples)],
                 desc="D pre-train", show=("d_loss", "d_acc_real", "d_acc_fake"))


def start_rollout_copy(run: Run) -> None:
    """The moving-average rollout copy starts from the pre-trained generator."""
    if run.policy is not run.gen:
        with torch.no_grad():
            run.policy.load_state_dict(run.gen.state_dict())
