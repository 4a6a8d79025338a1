"""A whole SeqGAN run, on the oracle task or on your sequences, resumable at every step.

    1. the real data: `oracle.num_samples` sequences of the oracle (seeded or the original's),
       or (task=data) the training file, tokenised, encoded and shuffled once with the seed
    2. MLE pre-training of the generator, evaluated every `train.eval_every` epochs
       (NLL-oracle; task=data: NLL-test/valid, BLEU-2..5 against the test file, Self-BLEU-2..5)
    3. discriminator pre-training rounds
    4. adversarial iterations: g-steps (rollout rewards + policy gradient), NLL-oracle,
       rollout-copy update, d-steps
    5. weights (safetensors) and samples written to the run directory

Progress is a small `TrainState` (phase, step, part of an adversarial iteration). A
checkpoint (`seqgan.checkpoint`) holds it with every model, optimizer and RNG state, so
`train(..., resume=checkpoint)` continues exactly where the run stopped: a resumed run
ends with the same weights and the same metrics as an uninterrupted one (on CPU).
Checkpoints are written every `train.checkpoint_every` epochs / rounds / iterations, at
each phase end, and when SIGINT or SIGTERM arrives (after the step in progress).
"""

from __future__ import annotations

import copy
import json
import platform
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from seqgan import checkpoint as ckpt
from seqgan.config import Config, ConfigError, dump_yaml, resolve, to_dict
from seqgan.data import Dataset, Vocabulary, load_dataset
from seqgan.diagnostics import discriminator_probe, reward_stats
from seqgan.metrics import References, text_metrics
from seqgan.distributed import (SINGLE, World, all_gather_object, all_gather_rows, all_reduce_max, all_reduce_sum,
                                barrier, shard_size)
from seqgan.files import atomic_write_text, save_weights, write_tokens
from seqgan.logging import MetricLogger
from seqgan.models import Discriminator, Generator, Oracle
from seqgan.models.lstm import LSTMLM
from seqgan.perf import Autocast, autocast_for, check_precision, configure_cpu, cuda_precision
from seqgan.train.adversarial import pg_step, update_rollout_policy
from seqgan.train.discriminator import discriminator_round
from seqgan.train.mle import mle_epoch

# independent random streams derived from `seed` (np.random.SeedSequence([seed, stream]))
STREAM_GENERATOR_INIT, STREAM_DISCRIMINATOR_INIT, STREAM_TRAIN, STREAM_EVAL, STREAM_DATA, STREAM_HELDOUT = range(6)
#: the held-out oracle sequences of NLL-test come from this seed's STREAM_HELDOUT whatever the run's seed,
#: so that every run on one oracle is scored on the same sequences
HELDOUT_SEED = 0
PHASES = ("mle", "discriminator", "adversarial")


def stream_seed(seed: int, stream: int, *more: int) -> int:
    return int(np.random.SeedSequence([seed, stream, *more]).generate_state(1, dtype=np.uint64)[0] >> 1)


def make_rng(seed: int, stream: int, device: torch.device, world: World = SINGLE) -> torch.Generator:
    """A stream of the run; under torchrun each rank gets its own, derived from (seed, stream, rank)."""
    extra = (world.rank,) if world.distributed else ()
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream, *extra))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA GPU is visible to torch; use --set device=cpu or auto")
    return torch.device(name)


def build_oracle(cfg: Config) -> Oracle:
    g = cfg.generator
    if cfg.oracle.path:
        oracle = Oracle.from_npz(cfg.oracle.path, g.seq_len, g.start_token)
        if oracle.vocab_size != g.vocab_size:
            raise ConfigError(f"oracle.path={cfg.oracle.path} has vocabulary {oracle.vocab_size} but "
                              f"generator.vocab_size={g.vocab_size}; set them equal")
        return oracle
    return Oracle.seeded(g.vocab_size, cfg.oracle.emb_dim, cfg.oracle.hidden_dim, g.seq_len,
                         cfg.oracle.seed, cfg.oracle.init_std, g.start_token)


def make_adam(model: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """Adam with the original's (TF's) defaults, betas 0.9/0.999, eps 1e-8; the fused
    kernel (one pass over all parameters) where this torch has it for the device."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr)


@dataclass
class TrainState:
    """Where the run is. Saved in every checkpoint."""

    phase: str = "mle"
    """'mle', then 'discriminator', then 'adversarial'."""
    step: int = 0
    """Completed epochs (mle), rounds (discriminator) or iterations (adversarial) of the phase."""
    part: int = 0
    """Adversarial: parts of the current iteration done (1 after the g-steps, 1 + r after r d-steps)."""
    pending: dict[str, Any] = field(default_factory=dict)
    """Adversarial: the current iteration's metrics so far."""
    serial: int = 0
    """Checkpoints written."""
    nll: dict[str, list[list[float]]] = field(default_factory=lambda: {"mle": [], "adversarial": []})
    """Curves of the main metric per phase: [[step, value], ...] (NLL-oracle; task=data: NLL-test, else NLL-valid)."""


def global_step(cfg: Config, phase: str, step: int) -> int:
    """A step count increasing across phases (TensorBoard's x axis)."""
    offsets = {"mle": 0, "discriminator": cfg.pretrain.generator_epochs,
               "adversarial": cfg.pretrain.generator_epochs + cfg.pretrain.discriminator_rounds}
    return offsets[phase] + step


@dataclass
class RunResult:
    run_dir: Path
    nll: dict[str, list[list[float]]]
    wall_time_s: float


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived; a checkpoint was saved. `.signum` says which."""

    def __init__(self, signum: int, path: Optional[Path]) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum, self.path = signum, path


@dataclass
class Run:
    """Everything a phase needs: config, models, optimizers, random streams, logger, state."""

    cfg: Config
    run_dir: Path
    device: torch.device
    oracle: Optional[Oracle]
    """The oracle task's oracle; None for task=data."""
    dataset: Optional[Dataset]
    """task=data: vocabulary, test and valid sets; None for the oracle task."""
    references: Optional[References]
    """task=data: the test file's token lists, prepared for BLEU."""
    real: torch.Tensor
    """This rank's real data (all of it outside torchrun)."""
    all_real: torch.Tensor
    """Every rank's real data, rank-major (what checkpoints hold)."""
    gen: Generator
    disc: Discriminator
    policy: LSTMLM
    optimizers: dict[str, torch.optim.Optimizer]
    rngs: dict[str, torch.Generator]
    state: TrainState
    log: MetricLogger
    world: World = SINGLE
    heldout: Optional[torch.Tensor] = None
    """Oracle task: this rank's share of the held-out oracle sequences (NLL-test, diagnostics); never trained on."""
    gen_model: Optional[torch.nn.Module] = None
    """The generator as trained: itself, or its DistributedDataParallel wrapper under torchrun."""
    disc_model: Optional[torch.nn.Module] = None
    stop_signal: Optional[int] = None

    @property
    def autocast(self) -> Autocast:
        """The context of the training forward passes and reward scoring (`train.precision`)."""
        return autocast_for(self.cfg.train.precision, self.device)

    @property
    def batch(self) -> int:
        """This rank's batch: its 1/K share of `train.batch_size`, or all of it with
        `train.scale_batch_with_world` (a global batch of K x batch_size)."""
        return run_batch(self.cfg, self.world)

    @property
    def pg_batch(self) -> int:
        """This rank's share of the g-step's batch (`adversarial.batch_size`, else the run's batch)."""
        a = self.cfg.adversarial
        return self.batch if a.batch_size == 0 else run_batch(self.cfg, self.world, a.batch_size)

    def share(self, n: int) -> int:
        return n // self.world.size

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self) -> Optional[Path]:
        """Save on rank 0 (every rank takes part: the random streams of all ranks are saved)."""
        self.state.serial += 1
        rng_states: dict[str, Any] = {name: g.get_state() for name, g in self.rngs.items()}
        if self.world.distributed:
            per_rank = all_gather_object({k: v.cpu() for k, v in rng_states.items()}, self.world)
            rng_states = {f"rank{r}.{k}": v for r, states in enumerate(per_rank) for k, v in states.items()}
        path = None
        if self.world.is_main:
            tensors: dict[str, torch.Tensor] = {"data.real": self.all_real}
            for prefix, module in (("generator", self.gen), ("discriminator", self.disc)):
                tensors.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
            if self.policy is not self.gen:
                tensors.update({f"rollout.{k}": v for k, v in self.policy.state_dict().items()})
            optim = {name: ckpt.optimizer_to_flat(name, opt, tensors) for name, opt in self.optimizers.items()}
            rng = ckpt.rng_to_flat(rng_states, tensors)
            state = {"train_state": asdict(self.state), "optimizers": optim, "rng": rng, "config": to_dict(self.cfg),
                     "log_offsets": self.log.offsets(), "elapsed_s": self.log.elapsed(), "world_size": self.world.size,
                     "device_type": self.device.type}
            path = ckpt.save(self.run_dir, self.state.serial, tensors, state, self.cfg.train.keep_checkpoints)
        barrier(self.world)
        return path

    def boundary(self, unit_done: bool) -> None:
        """Called between steps: periodic checkpoint, and the stop on SIGINT/SIGTERM
        (under torchrun the ranks agree, so that all stop at the same step)."""
        every = self.cfg.train.checkpoint_every
        periodic = unit_done and every > 0 and self.state.step % every == 0  # the same on every rank
        saved = self.checkpoint() if periodic else None
        stop = self.stop_signal or 0
        if self.world.distributed:
            stop = int(all_reduce_max(torch.tensor([stop], device=self.real.device), self.world)[0])
        if stop:
            if not periodic:
                saved = self.checkpoint()
            raise Interrupted(stop, saved)

    # ------------------------------------------------------------------ evaluation
    @property
    def main_metric(self) -> Optional[str]:
        """The metric of `state.nll` and the experiment log: nll_oracle, nll_test or nll_valid."""
        if self.dataset is None:
            return "nll_oracle"
        return "nll_test" if self.dataset.test is not None else ("nll_valid" if self.dataset.valid is not None else None)

    def decode(self, row: list[int]) -> str:
        return self.dataset.vocab.decode_text(row) if self.dataset is not None else " ".join(map(str, row))

    def evaluate(self, phase: str, step: int) -> dict[str, float]:
        """The evaluation metrics; logs the main one in the original's format and two samples.

        Oracle task: NLL-oracle of `train.eval_samples` generator samples. task=data: NLL-test
        (and NLL-valid), BLEU-2..5 of `eval.bleu_samples` samples against the test file,
        Self-BLEU-2..5 (`seqgan.metrics.text_metrics`)."""
        if self.dataset is None:
            assert self.oracle is not None
            samples = self.gen.sample(self.share(self.cfg.train.eval_samples), self.rngs["eval"])  # (M, T)
            metrics = {"nll_oracle": self.oracle.nll(samples)}
            if self.heldout is not None:
                metrics["nll_test"] = self.gen.nll(self.heldout)
                if self.cfg.train.diagnostics and phase == "adversarial":
                    metrics.update(discriminator_probe(self.disc, {
                        "train_real": (self.real, True), "heldout_real": (self.heldout, True),
                        "fresh_fake": (samples, False)}))
            if self.world.distributed:  # every rank scored its share: the mean over all of them
                names = sorted(metrics)
                means = all_reduce_sum(torch.tensor([metrics[k] for k in names], dtype=torch.float64,
                                                    device=samples.device), self.world) / self.world.size
                metrics = dict(zip(names, means.tolist()))
        elif not self.world.is_main:  # text metrics are computed once, on rank 0, which logs them
            return {}
        else:
            ds = self.dataset
            metrics = text_metrics(self.gen, ds.vocab.decode, self.cfg.eval.bleu_samples, self.rngs["eval"],
                                   self.references, None if ds.test is None else ds.test.ids.to(self.device),
                                   None if ds.valid is None else ds.valid.ids.to(self.device))
            samples = self.gen.sample(2, self.rngs["eval"])
        main = self.main_metric
        if main is not None:
            self.log.nll_line(step, metrics[main])
            self.state.nll[phase].append([step, metrics[main]])
        for row in samples[:2].tolist():
            self.log.print(f"  sample: {self.decode(row)}")
        return metrics


# ============================================================================ phases

def run_mle(run: Run) -> None:
    cfg, st, log = run.cfg, run.state, run.log
    E, every = cfg.pretrain.generator_epochs, cfg.train.eval_every
    if st.step == 0:
        log.experiment_log("pre-training...")
    with log.bar(E, "MLE", st.step) as bar:
        while st.step < E:
            epoch = st.step
            t0 = time.perf_counter()
            loss = mle_epoch(run.gen_model or run.gen, run.optimizers["mle"], run.real, run.batch, cfg.train.grad_clip,
                             run.world, run.gen, run.autocast)
            rec: dict[str, Any] = {"g_loss": loss,
                                   "samples_per_s": round((run.real.shape[0] // run.batch) * cfg.train.batch_size
                                                          / (time.perf_counter() - t0), 1)}
            if epoch % every == 0 or epoch == E - 1:
                rec.update(run.evaluate("mle", epoch))
            log.log("mle", epoch, global_step(cfg, "mle", epoch), **rec)
            last = run.state.nll["mle"][-1][1] if run.state.nll["mle"] else float("nan")
            bar.set_postfix({"loss": f"{loss:.4f}", run.main_metric or "nll": f"{last:.4f}"})
            bar.update()
            st.step += 1
            run.boundary(unit_done=True)


def run_discriminator_pretrain(run: Run) -> None:
    cfg, st, log = run.cfg, run.state, run.log
    p = cfg.pretrain
    with log.bar(p.discriminator_rounds, "D pre-train", st.step) as bar:
        while st.step < p.discriminator_rounds:
            r = discriminator_round(run.disc, run.optimizers["discriminator"], run.gen, run.real,
                                    p.discriminator_epochs, run.batch, cfg.discriminator.l2,
                                    run.rngs["train"], run.share(p.discriminator_samples), run.disc_model, run.world,
                                    run.autocast, cfg.discriminator.negatives, cfg.discriminator.label_smoothing)
            log.log("discriminator", st.step, global_step(cfg, "discriminator", st.step),
                    d_loss=r.loss, d_acc_real=r.acc_real, d_acc_fake=r.acc_fake)
            bar.set_postfix(d_loss=f"{r.loss:.4f}", acc_real=f"{r.acc_real:.3f}", acc_fake=f"{r.acc_fake:.3f}")
            bar.update()
            st.step += 1
            run.boundary(unit_done=True)


def run_adversarial(run: Run) -> None:
    cfg, st, log = run.cfg, run.state, run.log
    a, B = cfg.adversarial, run.batch
    if st.step == 0 and st.part == 0:
        log.experiment_log("adversarial training...")
        if run.policy is not run.gen:  # the moving-average rollout copy starts from the pre-trained generator
            run.policy.load_state_dict(run.gen.state_dict())
    with log.bar(a.iterations, "adversarial", st.step) as bar:
        while st.step < a.iterations:
            it = st.step
            if st.part == 0:
                # 1. g-steps: sample, rollout rewards, policy gradient
                t0 = time.perf_counter()
                stats = [pg_step(run.gen, run.policy, run.disc, run.optimizers["pg"], a, run.pg_batch, cfg.train.grad_clip,
                                 run.rngs["train"], run.gen_model, run.world, run.autocast)
                         for _ in range(a.generator_steps)]
                st.pending = {"g_loss": float(np.mean([s.loss for s in stats])),
                              "reward_mean": float(np.mean([s.reward_mean for s in stats])),
                              "g_step_s": round((time.perf_counter() - t0) / a.generator_steps, 3),
                              "pg_grad_norm": float(np.mean([s.grad_norm for s in stats]))}
                if cfg.train.diagnostics and run.oracle is not None:  # this rank's batch of the last g-step
                    last = stats[-1]
                    assert last.Y is not None and last.q is not None
                    st.pending.update(reward_stats(last.q, run.oracle.log_probs(last.Y)))
                # 2. NLL-oracle, as the original: after the g-step, before the d-steps
                if it % cfg.train.eval_every == 0 or it == a.iterations - 1:
                    st.pending.update(run.evaluate("adversarial", it))
                # 3. the rollout policy follows the generator (no-op when it is the generator)
                update_rollout_policy(run.policy, run.gen, a.rollout_update_rate)
                st.part = 1
                run.boundary(unit_done=False)
            # 4. d-steps: fresh negatives each, `discriminator_epochs` passes
            while st.part < 1 + a.discriminator_rounds:
                t0 = time.perf_counter()
                r = discriminator_round(run.disc, run.optimizers["discriminator"], run.gen, run.real,
                                        a.discriminator_epochs, B, cfg.discriminator.l2, run.rngs["train"],
                                        run.share(a.discriminator_samples), run.disc_model, run.world, run.autocast,
                                        cfg.discriminator.negatives, cfg.discriminator.label_smoothing)
                st.pending.update(d_loss=r.loss, d_acc_real=r.acc_real, d_acc_fake=r.acc_fake,
                                  d_steps_s=round(st.pending.get("d_steps_s", 0.0) + time.perf_counter() - t0, 3))
                st.part += 1
                if st.part < 1 + a.discriminator_rounds:
                    run.boundary(unit_done=False)
            log.log("adversarial", it, global_step(cfg, "adversarial", it), **st.pending)
            last = st.nll["adversarial"][-1][1] if st.nll["adversarial"] else float("nan")
            bar.set_postfix({"reward": f"{st.pending['reward_mean']:.3f}", run.main_metric or "nll": f"{last:.4f}"})
            bar.update()
            st.step, st.part, st.pending = st.step + 1, 0, {}
            run.boundary(unit_done=True)


PHASE_FUNCTIONS: dict[str, Callable[[Run], None]] = {
    "mle": run_mle, "discriminator": run_discriminator_pretrain, "adversarial": run_adversarial}


# ============================================================================ setup and the whole run

def _setup(cfg: Config, run_dir: Path, device: torch.device, oracle: Optional[Oracle], dataset: Optional[Dataset],
           log: MetricLogger, resume: Optional[ckpt.Checkpoint], world: World) -> Run:
    torch.manual_seed(cfg.seed)  # nothing draws from the global stream; this pins it anyway
    rngs = {"train": make_rng(cfg.seed, STREAM_TRAIN, device, world),
            "eval": make_rng(cfg.seed, STREAM_EVAL, device, world)}
    # inits depend on the seed alone, so every torchrun rank starts from the same weights
    gen = Generator(cfg.generator, torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_GENERATOR_INIT)))
    disc = Discriminator(cfg.discriminator, cfg.generator.vocab_size, cfg.generator.seq_len,
                         torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_DISCRIMINATOR_INIT)))
    gen, disc = gen.to(device), disc.to(device)
    policy: LSTMLM = gen
    if cfg.adversarial.rollout_update_rate is not None:
        policy = copy.deepcopy(gen).requires_grad_(False)
    gen.set_compile(cfg.train.compile)
    if policy is not gen:
        policy.set_compile(cfg.train.compile)
    # three Adams, as the original: MLE, discriminator, and a fresh one for the policy gradient
    optimizers: dict[str, torch.optim.Optimizer] = {"mle": make_adam(gen, cfg.pretrain.generator_lr), "discriminator": make_adam(disc, cfg.discriminator.lr),
                  "pg": make_adam(gen, cfg.adversarial.generator_lr)}
    if dataset is None:
        n_local = shard_size(cfg.oracle.num_samples, world, "oracle.num_samples")
    elif resume is not None:  # the checkpoint holds the training data the run started with
        n_local = resume.tensors["data.real"].shape[0] // world.size
    if resume is None:
        if dataset is not None:  # the training file, shuffled once (the same order on every rank)
            assert dataset.train is not None
            train_ids = dataset.train.ids
            perm = torch.randperm(train_ids.shape[0],
                                  generator=torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_DATA)))
            n_local = train_ids.shape[0] // world.size
            all_real = train_ids[perm][: n_local * world.size].to(device)  # (M, T) rank-major
            real = all_real[world.rank * n_local:(world.rank + 1) * n_local]
        else:
            assert oracle is not None
            real = oracle.sample(n_local, rngs["train"])  # (M / K, T): this rank's shard
            all_real = all_gather_rows(real, world)
            if world.is_main:
                write_tokens(run_dir / "real_data.txt", all_real)
        state = TrainState()
    else:
        t = resume.tensors
        all_real = t["data.real"].to(device)
        real = all_real[world.rank * n_local:(world.rank + 1) * n_local]
        gen.load_state_dict(resume.module_state("generator"))
        disc.load_state_dict(resume.module_state("discriminator"))
        if policy is not gen:
            policy.load_state_dict(resume.module_state("rollout"))
        for name, opt in optimizers.items():
            ckpt.optimizer_from_flat(name, opt, resume.state["optimizers"][name], t)
        if world.distributed:
            own = {f"rank{world.rank}.{k}": g for k, g in rngs.items()}
            ckpt.rng_from_flat(own, resume.state["rng"], t)
        else:
            ckpt.rng_from_flat(rngs, resume.state["rng"], t)
        state = TrainState(**resume.state["train_state"])
    gen_model: Optional[torch.nn.Module] = None
    disc_model: Optional[torch.nn.Module] = None
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP
        ids = [device.index] if device.type == "cuda" else None
        gen_model, disc_model = DDP(gen, device_ids=ids), DDP(disc, device_ids=ids)
    references = None
    if dataset is not None and dataset.test is not None:
        references = References(dataset.test.references, 5)
    heldout = None
    if oracle is not None and cfg.oracle.test_samples > 0:  # the same sequences on every rank, then its share
        n_test = shard_size(cfg.oracle.test_samples, world, "oracle.test_samples")
        heldout = oracle.sample(cfg.oracle.test_samples, make_rng(HELDOUT_SEED, STREAM_HELDOUT, device))
        heldout = heldout[world.rank * n_test:(world.rank + 1) * n_test]
    return Run(cfg, run_dir, device, oracle, dataset, references, real, all_real, gen, disc, policy, optimizers, rngs,
               state, log, world, heldout, gen_model, disc_model)


def check_resume(resume: ckpt.Checkpoint, world: World, device: torch.device) -> None:
    """A checkpoint continues exactly only with the same process count and device type."""
    saved_world = int(resume.state.get("world_size", 1))
    if saved_world != world.size:
        raise ConfigError(f"--resume: the run was made by {saved_world} process(es), this job has {world.size}; "
                          f"resume it with the same torchrun --nproc_per_node x --nnodes")
    saved_device = resume.state.get("device_type", "cpu")
    if saved_device != device.type:
        raise ConfigError(f"--resume: the run was made on {saved_device} and this process is on {device.type}; "
                          f"its random streams continue only on the same kind of device (set device={saved_device})")


def run_batch(cfg: Config, world: World, batch_size: int = 0) -> int:
    """A rank's batch (see `Run.batch`) of a global `batch_size` (default `train.batch_size`)."""
    batch_size = batch_size or cfg.train.batch_size
    return batch_size if cfg.train.scale_batch_with_world else batch_size // world.size


def check_world(cfg: Config, world: World) -> None:
    """Sizes that K torchrun processes must split evenly; raises ConfigError naming the key."""
    if not world.distributed:
        return
    oracle_task = cfg.task == "oracle"
    sizes = [("oracle.num_samples", cfg.oracle.num_samples if oracle_task else 0),
             ("train.eval_samples", cfg.train.eval_samples if oracle_task else 0),
             ("oracle.test_samples", cfg.oracle.test_samples if oracle_task else 0),
             ("pretrain.discriminator_samples", cfg.pretrain.discriminator_samples),
             ("adversarial.discriminator_samples", cfg.adversarial.discriminator_samples)]
    if not cfg.train.scale_batch_with_world:
        sizes += [("train.batch_size", cfg.train.batch_size), ("adversarial.batch_size", cfg.adversarial.batch_size)]
    for key, value in sizes:
        try:
            shard_size(value, world, key)
        except ValueError as e:
            raise ConfigError(str(e)) from None


def train(cfg: Config, run_dir: str | Path, quiet: bool = False,
          resume: Optional[ckpt.Checkpoint] = None, world: World = SINGLE,
          device: Optional[torch.device] = None) -> RunResult:
    """Run (or, with `resume`, continue) every phase of `cfg` in `run_dir`.

    Under torchrun pass this process's `world` and `device` (`seqgan.distributed.init`);
    rank 0 alone writes the run directory. Raises `Interrupted` after saving a checkpoint
    when SIGINT/SIGTERM arrives.
    """
    run_dir = Path(run_dir)
    device = device or resolve_device(cfg.device)
    check_world(cfg, world)
    if resume is not None:
        check_resume(resume, world, device)  # before anything in the run directory changes
    problem = check_precision(cfg.train.precision, device)
    if problem:
        raise ConfigError(problem)
    configure_cpu(cfg.train.threads, cfg.train.tune_allocator)
    # the data (or the oracle) first: bad input raises before anything is written
    oracle: Optional[Oracle] = None
    dataset: Optional[Dataset] = None
    if cfg.task == "data":
        vocab = Vocabulary.load(run_dir / "vocab.json") if resume is not None else None
        dataset = load_dataset(cfg.data, vocab, read_train=resume is None)  # resumed: the checkpoint has the data
        cfg = resolve(cfg, len(dataset.vocab), dataset.max_len)
        if dataset.train is not None and dataset.train.ids.shape[0] // world.size < run_batch(cfg, world):
            raise ConfigError(f"data.train={cfg.data.train}: {dataset.train.ids.shape[0]} sequences make no full batch "
                              f"of train.batch_size={cfg.train.batch_size}; give more data or a smaller batch")
    else:
        cfg = resolve(cfg)
        oracle = build_oracle(cfg).to(device)
        oracle.set_compile(cfg.train.compile)
    if world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if dataset is not None and resume is None:
            atomic_write_text(run_dir / "vocab.json", dataset.vocab.to_json())
        atomic_write_text(run_dir / "config.yaml", dump_yaml(cfg))
    barrier(world)

    elapsed, offsets, purge = 0.0, None, None
    if resume is not None:
        elapsed, offsets = float(resume.state["elapsed_s"]), resume.state["log_offsets"]
        st = resume.state["train_state"]
        purge = global_step(cfg, st["phase"], st["step"])  # TensorBoard drops what came after the checkpoint
    with MetricLogger(run_dir, quiet, elapsed, offsets, cfg.train.tensorboard, purge, enabled=world.is_main) as log:
        run = _setup(cfg, run_dir, device, oracle, dataset, log, resume, world)
        if resume is None:
            run.checkpoint()  # checkpoint 0: a run killed before its first step can still be resumed
        if resume is not None:
            st = run.state
            log.print(f"seqgan: resuming {run_dir} from {resume.path.name}: phase {st.phase}, step {st.step}"
                      + (f", part {st.part}" if st.part else ""))
        else:
            procs = f"  {world.size} torchrun processes" if world.distributed else ""
            log.print(f"seqgan: run directory {run_dir}  device {device}  torch threads {torch.get_num_threads()}{procs}")
            if oracle is not None:
                log.print(f"oracle: {cfg.oracle.path or f'seeded N(0, {cfg.oracle.init_std}), seed {cfg.oracle.seed}'}; "
                          f"{cfg.oracle.num_samples} real sequences; the oracle's NLL of its own samples "
                          f"{oracle.nll(run.real):.4f}")
            if dataset is not None:
                for line in dataset.report:
                    log.print(line)
                log.print(f"sequences of at most {dataset.max_len} tokens + <eos> ({cfg.data.tokenizer} tokenizer); "
                          f"discriminator filters {cfg.discriminator.filter_sizes}")
                if run.main_metric is None:
                    log.print("seqgan: warning: no --test or --valid file: no held-out NLL or BLEU will be reported")
        with _stop_on_signals(run), cuda_precision(cfg.train.precision, device):
            start = PHASES.index(run.state.phase)
            for i, phase in enumerate(PHASES[start:], start):
                PHASE_FUNCTIONS[phase](run)
                if phase == "mle" and world.is_main:  # the pre-trained generator: the MLE baseline
                    save_weights(run_dir / "generator_mle.safetensors", run.gen,
                                 {"format": "seqgan", "config": json.dumps(to_dict(cfg)), "stage": "mle"})
                if i + 1 < len(PHASES):
                    run.state.phase, run.state.step, run.state.part = PHASES[i + 1], 0, 0
                run.checkpoint()  # at every phase end
        if world.is_main:
            _write_outputs(run)
        run.gen_model = run.disc_model = None  # DDP reducers hold gloo/nccl work: release them before teardown
        barrier(world)
        result = RunResult(run_dir, run.state.nll, log.elapsed())
        label = (run.main_metric or "nll").replace("nll_", "NLL-")
        log.print(f"done in {result.wall_time_s:.0f} s: " + ", ".join(
            f"{ph} {label} {c[0][1]:.4f} -> {c[-1][1]:.4f}" for ph, c in result.nll.items() if c))
    return result


def _write_outputs(run: Run) -> None:
    meta = {"format": "seqgan", "config": json.dumps(to_dict(run.cfg))}
    save_weights(run.run_dir / "generator.safetensors", run.gen, meta)
    save_weights(run.run_dir / "discriminator.safetensors", run.disc, meta)
    samples = run.gen.sample(1000, torch.Generator(device=run.device).manual_seed(stream_seed(run.cfg.seed, 99)))
    if run.dataset is not None:
        atomic_write_text(run.run_dir / "generator_samples.txt", "".join(run.decode(r) + "\n" for r in samples.tolist()))
    else:
        write_tokens(run.run_dir / "generator_samples.txt", samples)
    summary = {"wall_time_s": round(run.log.elapsed(), 1), run.main_metric or "nll": run.state.nll,
               "torch": torch.__version__, "device": str(run.device), "threads": torch.get_num_threads(),
               "machine": platform.processor() or platform.machine()}
    atomic_write_text(run.run_dir / "summary.json", json.dumps(summary, indent=1))


class _stop_on_signals:
    """SIGINT/SIGTERM set `run.stop_signal`; the run saves and stops after the current step.
    A second SIGINT aborts at once. Only installed in the main thread."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.run.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.run.stop_signal = signum
        self.run.log.print(f"seqgan: {signal.Signals(signum).name} received: finishing the current step, "
                           "then saving a checkpoint (Ctrl-C again aborts without saving)")

    def __enter__(self) -> "_stop_on_signals":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
