"""The steps methods are built from, bound to a `Run` (its models, optimizers, random streams,
torchrun wrappers and precision): each does one unit or part of a phase and returns its
metrics. The computations themselves are the pure functions of `train/mle.py`,
`train/discriminator.py` and `train/adversarial.py`.

    mle_epoch(run)                          one epoch of maximum likelihood (or scheduled sampling)
    discriminator_round(run, epochs, n)     fresh negatives + real sequences, `epochs` passes
    pg_step(run, reward)                    sample, rollout rewards, policy-gradient update
    pg_update(run, Y, q)                    the update alone, on sequences and their rewards
    follow_generator(run)                   the moving-average rollout copy follows the generator
    mle_phase(run), discriminator_phase(run) the pre-training phases the GANs share

and the declarations the policy-gradient GANs share: `build_discriminator(b)`, `pg_models(b, ...)`,
`adversarial_reward(run, reward)` (the `reward.kind` controls, then your objective) and
`with_objective(run, critic)` (ORGAN's mix of a critic with `reward.objective`).
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any, Callable, Optional

import torch
from torch import Tensor

from seqgan.config import to_dict
from seqgan.diagnostics import reward_stats
from seqgan.files import save_weights
from seqgan.models import Discriminator
from seqgan.plan import ADVERSARIAL, DISCRIMINATOR, EVALUATE, MLE, Build, Models, Phase
from seqgan.rewards import Reward
from seqgan.rewards.controls import ConstantReward, RandomReward
from seqgan.rewards.objective import ObjectiveReward
from seqgan.rollout import rollout_rewards
from seqgan.train import adversarial, discriminator, mle
from seqgan.train.run import MLE_BEST, STREAM_DISCRIMINATOR_INIT, Run, describe_select_set


# ============================================================================ declarations

def build_discriminator(b: Build) -> Discriminator:
    """The paper's CNN discriminator (section `discriminator`), initialised from its own stream."""
    return Discriminator(b.cfg.discriminator, b.sizes.vocab_size, b.sizes.seq_len,
                         torch.Generator().manual_seed(b.init_seed(STREAM_DISCRIMINATOR_INIT)))


def uses_discriminator(cfg: Any) -> bool:
    """False for the reward controls (`reward.kind` constant or random) and for the objective alone
    (`reward.mix` = 0): nothing reads D, so none is built or trained."""
    return bool(cfg.reward.kind == "discriminator" and cfg.reward.mix > 0)


def pg_models(b: Build, critic: Optional[tuple[str, torch.nn.Module, float]] = None) -> Models:
    """What a policy-gradient GAN trains beside the generator: its critic (name, model, learning
    rate), a fresh Adam for the policy gradient (`adversarial.generator_lr`), and with
    `adversarial.rollout_update_rate` the moving-average rollout copy."""
    a = b.cfg.adversarial
    out = Models(optimizers={"pg": b.adam(b.gen, a.generator_lr)})
    if critic is not None:
        name, model, lr = critic
        out.modules[name] = model
        out.optimizers[name] = b.adam(model, lr)
        out.distributed = (name,)
    if a.rollout_update_rate is not None:
        out.modules["rollout"] = copy.deepcopy(b.gen).requires_grad_(False)
    return out


def adversarial_reward(run: Run, reward: Optional[Reward]) -> Reward:
    """The method's reward, or the control `reward.kind` puts in its place, mixed with the
    objective (`with_objective`; at `reward.mix` = 0 the objective alone, and `reward` is None)."""
    r = run.cfg.reward
    if r.mix == 0:
        return with_objective(run, None)
    if r.kind == "constant":
        return with_objective(run, ConstantReward(r.constant))
    if r.kind == "random":
        return with_objective(run, RandomReward(run.rngs["train"]))
    assert reward is not None, "reward.kind=discriminator needs the method's reward"
    return with_objective(run, reward)


def with_objective(run: Run, critic: Optional[Reward]) -> Reward:
    """ORGAN's reward: `reward.mix` * critic + (1 - `reward.mix`) * the run's objective (with the
    duplicate penalty; `seqgan.rewards.objective`). At mix = 1 the critic itself (SeqGAN); at
    mix = 0 the objective alone (critic None)."""
    r = run.cfg.reward
    if r.mix == 1:
        assert critic is not None, "reward.mix=1 needs the method's reward"
        if r.objective and run.world.is_main:
            print(f"seqgan: warning: reward.objective={r.objective} is loaded but not called: reward.mix=1 is "
                  "the critic alone (SeqGAN); set reward.mix below 1 to mix it in", file=sys.stderr)
        return critic
    assert run.objective is not None, "reward.mix < 1 needs reward.objective (the config's validation says so)"
    decode = run.dataset.vocab.decode_text if run.dataset is not None else list
    return ObjectiveReward(run.objective, decode, r.mix, critic if r.mix > 0 else None, r.duplicate_penalty)


def objective_metrics(reward: Reward) -> dict[str, Any]:
    """`objective_mean`: the objective's mean over the step's sampled sequences (before the
    penalty and the mix; this rank's share), for a reward with an objective."""
    if isinstance(reward, ObjectiveReward) and reward.sampled_mean is not None:
        return {"objective_mean": reward.sampled_mean}
    return {}


# ============================================================================ steps

def mle_epoch(run: Run, inputs: Optional[Callable[[Tensor], Tensor]] = None) -> dict[str, Any]:
    """One MLE epoch over the real data in order; `inputs` as `train.mle.mle_epoch`."""
    t0 = time.perf_counter()
    loss = mle.mle_epoch(run.trained("generator"), run.optimizers["mle"], run.real, run.batch,
                         grad_clip=run.cfg.train.grad_clip, world=run.world, lm=run.gen, autocast=run.autocast,
                         inputs=inputs)
    sequences = (run.real.shape[0] // run.batch) * run.batch * run.world.size
    return {"g_loss": loss, "samples_per_s": round(sequences / (time.perf_counter() - t0), 1)}


def discriminator_round(run: Run, epochs: int, samples: int) -> dict[str, Any]:
    """Fresh negatives from the generator and `samples` real sequences (0: all), `epochs` passes."""
    disc = run.disc
    assert disc is not None, "this method has no discriminator"
    d = run.cfg.discriminator
    t0 = time.perf_counter()
    r = discriminator.discriminator_round(
        disc, run.optimizers["discriminator"], run.gen, run.real, epochs, run.batch, d.l2, run.rngs["train"],
        num_samples=run.share(samples), model=run.trained("discriminator"), world=run.world,
        autocast=run.autocast, negatives=d.negatives, label_smoothing=d.label_smoothing)
    return {"d_loss": r.loss, "d_acc_real": r.acc_real, "d_acc_fake": r.acc_fake,
            "d_steps_s": round(time.perf_counter() - t0, 3)}


def pg_step(run: Run, reward: Reward, rollout_num: Optional[int] = None) -> dict[str, Any]:
    """One policy-gradient step (the paper's g-step): sample, reward, loss, update."""
    t0 = time.perf_counter()
    rng = run.rngs["train"]
    Y = run.gen.sample(run.pg_batch, rng)  # (b, T) this rank's share of the batch
    q = rollout_rewards(run.policy, reward, Y, rollout_num or run.cfg.adversarial.rollout_num, rng).rewards  # (b, T)
    out = pg_update(run, Y, q)  # L = -sum_{b,t} log G(y_t | y_<t) Q[b, t]; one clipped Adam step
    out.update(objective_metrics(reward))
    out["g_step_s"] = round(time.perf_counter() - t0, 3)
    if run.cfg.train.diagnostics and run.oracle is not None:  # this rank's batch
        stats = reward_stats(q, run.oracle.log_probs(Y))
        out.update({k: v for k, v in stats.items() if k != "reward_mean"})  # the step's own mean stays
    return out


def pg_update(run: Run, Y: Tensor, q: Tensor, baseline: Optional[str] = None,
              norm: Optional[str] = None) -> dict[str, Any]:
    """The policy-gradient update on sampled sequences Y (b, T) and their rewards q (b, T), with
    the `adversarial` section's baseline and normalisation (unless given) and reduction; under
    torchrun every statistic is the global batch's."""
    a = run.cfg.adversarial
    s = adversarial.pg_update(run.trained("generator"), run.optimizers["pg"], Y, q,
                              baseline=a.reward_baseline if baseline is None else baseline,
                              reduction=a.loss_reduction, grad_clip=run.cfg.train.grad_clip, world=run.world,
                              lm=run.gen, autocast=run.autocast,
                              norm=a.reward_norm if norm is None else norm)
    return {"g_loss": s.loss, "reward_mean": s.reward_mean, "pg_grad_norm": s.grad_norm}


def follow_generator(run: Run) -> dict[str, Any]:
    """The moving-average rollout copy takes its step towards the generator (no-op without one)."""
    adversarial.update_rollout_policy(run.policy, run.gen, run.cfg.adversarial.rollout_update_rate)
    return {}


def start_rollout_copy(run: Run) -> None:
    """The moving-average rollout copy starts from the pre-trained generator."""
    if run.policy is not run.gen:
        with torch.no_grad():
            run.policy.load_state_dict(run.gen.state_dict())


def save_mle_baseline(run: Run) -> None:
    """generator_mle.safetensors: the generator at the end of MLE pre-training (rank 0), with the
    models it reads (`Policy.companions`, LeakGAN's discriminator) as <name>_mle.safetensors."""
    if run.world.is_main:
        meta = {"format": "seqgan", "config": to_dict(run.cfg), "stage": "mle"}
        save_weights(run.run_dir / "generator_mle.safetensors", run.gen, meta)
        for name, module in run.gen.companions().items():
            save_weights(run.run_dir / f"{name}_mle.safetensors", module, meta)


def track_best_mle(run: Run, epoch: int) -> dict[str, Any]:
    """pretrain.select=best_valid, after MLE epoch `epoch`: the generator's NLL of the selection set, and
    a copy of its weights when that is the lowest so far (the earliest epoch wins a tie)."""
    assert run.select_set is not None
    nll = run.gen.nll(run.select_set)  # the whole set on every rank: the same number everywhere
    best = run.state.mle_best
    if not best or nll < best["nll"]:
        run.state.mle_best = {"epoch": epoch, "nll": nll}
        with torch.no_grad():
            run.models[MLE_BEST].load_state_dict(run.gen.state_dict())
    return {"nll_select": nll}


def end_mle(run: Run) -> None:
    """The end of MLE pre-training: generator_mle.safetensors (the last epoch's generator); with
    pretrain.select=best_valid also generator_mle_best.safetensors, the selected generator, which then
    replaces the last one, so that every later phase starts from it, and is evaluated ('mle_best')."""
    save_mle_baseline(run)
    best = run.state.mle_best
    if run.cfg.pretrain.select != "best_valid" or not best:
        return
    with torch.no_grad():
        run.gen.load_state_dict(run.models[MLE_BEST].state_dict())
    if run.world.is_main:
        save_weights(run.run_dir / "generator_mle_best.safetensors", run.gen,
                     {"format": "seqgan", "config": to_dict(run.cfg), "stage": "mle_best",
                      "epoch": best["epoch"], "nll_select": best["nll"]})
    metrics, _ = run.score(MLE)
    if metrics:
        evaluation = {"phase": MLE, "step": best["epoch"], **metrics}
        run.state.evaluations["mle_best"] = evaluation
        run.state.evaluations["final"] = evaluation  # the generator as it now is
    run.log.print(f"MLE: kept epoch {best['epoch']} of {run.cfg.pretrain.generator_epochs} (pretrain.select="
                  f"best_valid: NLL {best['nll']:.4f} on {describe_select_set(run)}); the last epoch's generator is "
                  "generator_mle.safetensors")


# ============================================================================ phases

def mle_phase(run: Run) -> Phase:
    """`pretrain.generator_epochs` epochs of maximum likelihood, evaluated every `train.eval_every`;
    at its end the generator is saved as the run's MLE baseline. With pretrain.select=best_valid each
    epoch is also scored on the selection set, and the best epoch's generator is kept (`end_mle`)."""
    if run.cfg.pretrain.select == "best_valid":
        def parts(epoch: int) -> list[Any]:
            return [lambda: mle_epoch(run), lambda: track_best_mle(run, epoch), EVALUATE]
    else:
        def parts(epoch: int) -> list[Any]:
            return [lambda: mle_epoch(run), EVALUATE]
    return Phase(MLE, run.cfg.pretrain.generator_epochs, parts, desc="MLE", log_line="pre-training...",
                 on_end=lambda: end_mle(run), show=("g_loss",))


def discriminator_phase(run: Run, round: Optional[Callable[[int, int], dict[str, Any]]] = None) -> Phase:
    """`pretrain.discriminator_rounds` rounds of critic pre-training: `round(epochs, samples)`
    (default: the discriminator's, `discriminator_round`)."""
    p = run.cfg.pretrain
    step = round or (lambda epochs, samples: discriminator_round(run, epochs, samples))
    return Phase(DISCRIMINATOR, p.discriminator_rounds,
                 lambda r: [lambda: step(p.discriminator_epochs, p.discriminator_samples)],
                 desc="D pre-train", show=("d_loss", "d_acc_real", "d_acc_fake"), trains_generator=False)


def adversarial_phase(run: Run, iteration: Callable[[int], list[Any]], desc: str = "adversarial") -> Phase:
    """`adversarial.iterations` iterations of `iteration(i)`'s parts; the rollout copy starts from
    the pre-trained generator."""
    return Phase(ADVERSARIAL, run.cfg.adversarial.iterations, iteration, desc=desc,
                 log_line="adversarial training...", on_start=lambda: start_rollout_copy(run),
                 show=("reward_mean",))
