"""The machinery every method runs on: setup, phases, evaluation, checkpoints and exact resume,
torchrun, logging. A method (`seqgan.methods`, interface in `seqgan.plan`) only declares what
it trains, which phases it runs and what one step of each does; this module runs them.

    1. the real data: `oracle.num_samples` sequences of the oracle (seeded or the original's),
       or (task=data) the training file, tokenised, encoded and shuffled once with the seed;
       on the oracle task also `oracle.test_samples` held-out oracle sequences for NLL-test
    2. the untrained generator is evaluated (the "Random" baseline, phase `init`)
    3. the method's phases, in order: each has a number of units (epochs, rounds, iterations),
       each unit a list of parts (steps returning their metrics, and EVALUATE where the unit
       evaluates: every `train.eval_every` units and at the phase's last)
    4. weights (safetensors), samples and summary.json written to the run directory

Progress is a small `TrainState` (phase, unit, part). A checkpoint (`seqgan.checkpoint`)
holds it with every model, optimizer and RNG state, so `train(..., resume=checkpoint)`
continues exactly where the run stopped: a resumed run ends with the same weights and
metrics as an uninterrupted one (on CPU). Checkpoints are written every
`train.checkpoint_every` units, at each phase end, and when SIGINT or SIGTERM arrives (after
the part in progress).
"""

from __future__ import annotations

import copy
import json
import platform
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from seqgan import checkpoint as ckpt
from seqgan import memory
from seqgan.config import Config, ConfigError, Sizes, absolute_paths, dump_yaml, to_dict
from seqgan.data import EMPTY_SAMPLE, Dataset, Vocabulary, load_dataset
from seqgan.device import resolve_device
from seqgan.diagnostics import discriminator_probe
from seqgan.distributed import (SINGLE, World, all_gather_object, all_gather_rows, all_reduce_max, all_reduce_sum,
                                barrier, shard_size)
from seqgan.files import RunLock, atomic_write_text, json_safe, save_weights, write_tokens, write_weight_sums
from seqgan.logging import MetricLogger
from seqgan.metrics import EVAL_SEED, References, text_metrics
from seqgan import methods as registry
from seqgan.models import Discriminator, Oracle, build_oracle
from seqgan.objective import Objective, load_objective
from seqgan.perf import Autocast, allocator_tuned, autocast_for, check_precision, cpu_settings, cuda_precision
from seqgan.plan import ADVERSARIAL, EVALUATE, INIT, Build, Models, Part, Phase, _Evaluate, make_adam
from seqgan.policies import Policy

__all__ = ["EVALUATE", "Part", "Phase", "Run", "train", "make_adam", "stream_seed", "make_rng"]

# independent random streams derived from `seed` (np.random.SeedSequence([seed, stream]))
(STREAM_GENERATOR_INIT, STREAM_DISCRIMINATOR_INIT, STREAM_TRAIN, STREAM_EVAL, STREAM_DATA, STREAM_HELDOUT,
 STREAM_METHOD, STREAM_SELECT) = range(8)
#: the held-out oracle sequences of NLL-test come from this seed's STREAM_HELDOUT whatever the run's seed,
#: so that every run on one oracle is scored on the same sequences
HELDOUT_SEED = 0


def stream_seed(seed: int, stream: int, *more: int) -> int:
    return int(np.random.SeedSequence([seed, stream, *more]).generate_state(1, dtype=np.uint64)[0] >> 1)


def make_rng(seed: int, stream: int, device: torch.device, world: World = SINGLE) -> torch.Generator:
    """A stream of the run; under torchrun each rank gets its own, derived from (seed, stream, rank)."""
    extra = (world.rank,) if world.distributed else ()
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream, *extra))


Curves = dict[str, dict[str, list[list[float]]]]
"""metric -> phase -> [[step, value], ...]"""


@dataclass
class TrainState:
    """Where the run is. Saved in every checkpoint."""

    phase: str = ""
    """The current phase of the method ('' before the first)."""
    step: int = 0
    """Completed units (epochs, rounds, iterations) of the phase."""
    part: int = 0
    """Parts of the current unit done."""
    pending: dict[str, Any] = field(default_factory=dict)
    """The current unit's metrics so far."""
    serial: int = 0
    """Checkpoints written."""
    curves: Curves = field(default_factory=dict)
    """Evaluation curves of the main metric (and NLL-test on the oracle task)."""
    evaluations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """'init': every metric of the untrained generator's evaluation; 'final': of the latest one; with
    pretrain.select=best_valid, 'mle_best': of the selected MLE generator."""
    mle_best: dict[str, Any] = field(default_factory=dict)
    """pretrain.select=best_valid: the MLE epoch with the lowest NLL on the selection set so far, and that NLL
    ({'epoch': e, 'nll': v}); empty before the first epoch and with select=last."""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainState":
        return cls(**d)


@dataclass
class RunResult:
    run_dir: Path
    curves: Curves
    wall_time_s: float


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived; a checkpoint was saved. `.signum` says which."""

    def __init__(self, signum: int, path: Optional[Path]) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum, self.path = signum, path


@dataclass
class Run:
    """Everything a method's steps need: config, models, optimizers, random streams, logger, state."""

    cfg: Config
    sizes: Sizes
    """The vocabulary, length and start / end tokens of the run's models."""
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
    gen: Policy
    models: dict[str, torch.nn.Module]
    """What the method trains beside the generator (its `build`), by checkpoint prefix."""
    optimizers: dict[str, torch.optim.Optimizer]
    rngs: dict[str, torch.Generator]
    state: TrainState
    log: MetricLogger
    world: World = SINGLE
    heldout: Optional[torch.Tensor] = None
    """Oracle task: this rank's share of the held-out oracle sequences (NLL-test, diagnostics); never trained on."""
    select_set: Optional[torch.Tensor] = None
    """pretrain.select=best_valid: the sequences the MLE epochs are selected on (data.valid, a held-out share of
    the training file, or fresh oracle sequences), whole on every rank; None with select=last."""
    gen_model: Optional[torch.nn.Module] = None
    """The generator as trained: itself, or its DistributedDataParallel wrapper under torchrun."""
    wrapped: dict[str, torch.nn.Module] = field(default_factory=dict)
    """Under torchrun, the DistributedDataParallel wrappers of the models the method trains by gradient."""
    stop_signal: Optional[int] = None
    global_step: int = 0
    """Units done in all phases so far (TensorBoard's x axis)."""
    objective: Optional[Objective] = None
    """`reward.objective`, loaded when the run starts (None without one)."""

    @property
    def disc(self) -> Optional[Discriminator]:
        """The method's discriminator, if it has one (`models['discriminator']`)."""
        d = self.models.get("discriminator")
        return d if isinstance(d, Discriminator) else None

    @property
    def policy(self) -> Policy:
        """The rollout policy: the generator itself, or the method's moving-average copy (`models['rollout']`)."""
        p = self.models.get("rollout")
        return p if isinstance(p, Policy) else self.gen

    def trained(self, name: str) -> torch.nn.Module:
        """What a training step calls: the model, or under torchrun its DistributedDataParallel wrapper."""
        if name == "generator":
            return self.gen_model or self.gen
        return self.wrapped.get(name, self.models[name])

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
    def modules(self) -> dict[str, torch.nn.Module]:
        """The models a checkpoint holds, by tensor prefix."""
        return {"generator": self.gen, **self.models}

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
            if self.select_set is not None and select_source(self.cfg) == "share":
                tensors["data.select"] = self.select_set  # lines of the training file, not in data.real
            for prefix, module in self.modules().items():
                tensors.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
            optim = {name: ckpt.optimizer_to_flat(name, opt, tensors) for name, opt in self.optimizers.items()}
            rng = ckpt.rng_to_flat(rng_states, tensors)
            state = {"train_state": asdict(self.state), "optimizers": optim, "rng": rng, "config": to_dict(self.cfg),
                     "log_offsets": self.log.offsets(), "elapsed_s": self.log.elapsed(), "world_size": self.world.size,
                     "device_type": self.device.type, "global_step": self.global_step,
                     "sizes": self.sizes.to_dict()}
            if self.dataset is not None:
                state["vocab_sha256"] = self.dataset.vocab.digest()
            path = ckpt.save(self.run_dir, self.state.serial, tensors, state, self.cfg.train.keep_checkpoints)
        barrier(self.world)
        return path

    def boundary(self, unit_done: bool) -> None:
        """Called between parts: periodic checkpoint, and the stop on SIGINT/SIGTERM
        (under torchrun the ranks agree, so that all stop at the same part)."""
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
        """The metric of the experiment log: nll_oracle, nll_test or nll_valid."""
        if self.dataset is None:
            return "nll_oracle"
        return (
            "nll_test" if self.dataset.test is not None else ("nll_valid" if self.dataset.valid is not None else None)
        )

    def decode(self, row: list[int]) -> str:
        return self.dataset.vocab.decode_text(row) if self.dataset is not None else " ".join(map(str, row))

    def evaluate(self, phase: str, step: int) -> dict[str, float]:
        """The evaluation metrics; logs the main one in the original's format and, on your data,
        prints two samples (not in the oracle task, whose samples are token ids: `seqgan generate`
        and generator_samples.txt have them).

        Oracle task: NLL-oracle of `train.eval_samples` generator samples, NLL-test of the
        held-out oracle sequences (and with `train.diagnostics`, D on real, held-out and fresh
        generated sequences). task=data: NLL-test (and NLL-valid), BLEU-2..5 of
        `eval.bleu_samples` samples against the test file, Self-BLEU-2..5; the samples come from
        a fresh stream seeded `EVAL_SEED` at every evaluation, the draw `seqgan evaluate` makes,
        so that the last evaluation (summary.json, `seqgan compare`) and `evaluate` agree (the
        two printed samples come from the run's eval stream)."""
        metrics, samples = self.score(phase)
        if not metrics:
            return {}
        if self.dataset is not None:
            samples = self.gen.sample(2, self.rngs["eval"])
        main = self.main_metric
        tracked = [main] + (["nll_test"] if self.dataset is None and "nll_test" in metrics else [])
        for key in tracked:
            if key is not None:
                self.state.curves.setdefault(key, {}).setdefault(phase, []).append([step, metrics[key]])
        self.state.evaluations[INIT if phase == INIT else "final"] = {"phase": phase, "step": step, **metrics}
        if main is not None and phase != INIT:
            self.log.nll_line(step, metrics[main])
        if self.dataset is not None and samples is not None:  # oracle samples are token ids: not printed
            for row in samples[:2].tolist():
                self.log.print(f"  sample: {self.decode(row) or EMPTY_SAMPLE}")
        return metrics

    def score(self, phase: str) -> tuple[dict[str, float], Optional[torch.Tensor]]:
        """The evaluation metrics of the generator as it is (see `evaluate`), and on the oracle task the
        samples scored; ({}, None) on the ranks other than 0 of a run on your data."""
        samples: Optional[torch.Tensor] = None
        if self.dataset is None:
            assert self.oracle is not None
            samples = self.gen.sample(self.share(self.cfg.train.eval_samples), self.rngs["eval"])  # (M, T)
            metrics = {"nll_oracle": self.oracle.nll(samples)}
            if self.heldout is not None:
                metrics["nll_test"] = self.gen.nll(self.heldout)
            if self.cfg.train.diagnostics and self.disc is not None and phase == ADVERSARIAL:
                sets = {"train_real": (self.real, True), "fresh_fake": (samples, False)}
                if self.heldout is not None:
                    sets["heldout_real"] = (self.heldout, True)
                metrics.update(discriminator_probe(self.disc, sets))
            if self.world.distributed:  # every rank scored its share: the mean over all of them
                names = sorted(metrics)
                means = all_reduce_sum(torch.tensor([metrics[k] for k in names], dtype=torch.float64,
                                                    device=samples.device), self.world) / self.world.size
                metrics = dict(zip(names, means.tolist()))
        elif not self.world.is_main:  # text metrics are computed once, on rank 0, which logs them
            return {}, None
        else:
            ds = self.dataset
            draw = torch.Generator(device=self.device).manual_seed(EVAL_SEED)  # as `seqgan evaluate` draws
            metrics = text_metrics(self.gen, ds.vocab.decode, self.cfg.eval.bleu_samples, draw,
                                   self.references, None if ds.test is None else ds.test.ids.to(self.device),
                                   None if ds.valid is None else ds.valid.ids.to(self.device))
        return metrics, samples


def merge_metrics(pending: dict[str, Any], new: dict[str, Any]) -> None:
    """Add a part's metrics to its unit's: numbers repeated over parts are averaged (seconds,
    keys ending in `_s`, are summed); counts live in pending['_n'] until the unit is logged."""
    counts = pending.setdefault("_n", {})
    for k, v in new.items():
        if k in pending and isinstance(v, (int, float)) and not isinstance(v, bool) and pending[k] is not None:
            if k.endswith("_s"):
                pending[k] = round(pending[k] + v, 3)
            else:
                n = counts.get(k, 1)
                pending[k] = (pending[k] * n + v) / (n + 1)
                counts[k] = n + 1
        else:
            pending[k] = v


# ============================================================================ running phases

def run_phases(run: Run, phases: list[Phase]) -> None:
    """Run `phases` from where `run.state` stands (the start, or a checkpoint's place)."""
    names = [p.name for p in phases]
    st = run.state
    if not st.phase:
        st.phase = names[0]
    if st.phase not in names:
        raise ConfigError(f"the checkpoint is in phase {st.phase!r}, which this method ({run.cfg.method}) does not "
                          f"have ({', '.join(names)})")
    start = names.index(st.phase)
    offset = sum(p.units for p in phases[:start])
    run.global_step = offset + st.step
    for i in range(start, len(phases)):
        ph = phases[i]
        _run_phase(run, ph, offset)
        if ph.on_end is not None:
            ph.on_end()
        if i + 1 < len(phases):
            st.phase, st.step, st.part = phases[i + 1].name, 0, 0
        run.checkpoint()  # at every phase end
        offset += ph.units
        run.global_step = offset


def _run_phase(run: Run, ph: Phase, offset: int) -> None:
    cfg, st, log = run.cfg, run.state, run.log
    every = cfg.train.eval_every
    if st.step == 0 and st.part == 0:
        if ph.log_line:
            log.experiment_log(ph.log_line)
        if ph.on_start is not None:
            ph.on_start()
    if ph.units == 0:
        return
    with log.bar(ph.units, ph.desc or ph.name, st.step) as bar:
        while st.step < ph.units:
            parts = ph.parts(st.step)
            while st.part < len(parts):
                part = parts[st.part]
                if isinstance(part, _Evaluate):
                    if st.step % every == 0 or st.step == ph.units - 1:
                        merge_metrics(st.pending, run.evaluate(ph.name, st.step))
                else:
                    merge_metrics(st.pending, part())
                st.part += 1
                if st.part < len(parts):
                    run.boundary(unit_done=False)
            st.pending.pop("_n", None)
            log.log(ph.name, st.step, offset + st.step, **st.pending)
            shown = {k: f"{st.pending[k]:.4f}" for k in ph.show if isinstance(st.pending.get(k), float)}
            main = run.main_metric
            if main and run.state.curves.get(main, {}).get(ph.name):
                shown[main] = f"{run.state.curves[main][ph.name][-1][1]:.4f}"
            bar.set_postfix(shown)
            bar.update()
            st.step, st.part, st.pending = st.step + 1, 0, {}
            run.global_step = offset + st.step
            run.boundary(unit_done=True)


# ============================================================================ setup and the whole run

def _setup(cfg: Config, sizes: Sizes, run_dir: Path, device: torch.device, oracle: Optional[Oracle],
           dataset: Optional[Dataset], log: MetricLogger, resume: Optional[ckpt.Checkpoint], world: World,
           method: Any, objective: Optional[Objective] = None) -> Run:
    rngs = {"train": make_rng(cfg.seed, STREAM_TRAIN, device, world),
            "eval": make_rng(cfg.seed, STREAM_EVAL, device, world)}
    # inits depend on the seed alone, so every torchrun rank starts from the same weights
    gen = registry.build_generator(cfg, sizes, torch.Generator().manual_seed(stream_seed(cfg.seed,
                                                                                          STREAM_GENERATOR_INIT)))
    gen = gen.to(device)
    gen.set_compile(cfg.train.compile)
    # what the method trains beside the generator (its discriminator, ranker, rollout copy, ...)
    declared: Models = method.build(Build(cfg, sizes, device, gen, lambda stream: stream_seed(cfg.seed, stream)))
    models = declared.modules
    if cfg.pretrain.select == "best_valid":  # the best MLE epoch's weights so far (checkpointed like a model)
        models[MLE_BEST] = copy.deepcopy(gen).requires_grad_(False)
    for m in models.values():
        m.to(device)
        if isinstance(m, Policy):
            m.set_compile(cfg.train.compile)
    # Adams as the original: MLE here, and the method's (the discriminator's, a fresh one for the policy gradient)
    optimizers: dict[str, torch.optim.Optimizer] = {"mle": make_adam(gen, cfg.pretrain.generator_lr),
                                                    **declared.optimizers}
    if dataset is None:
        n_local = shard_size(cfg.oracle.num_samples, world, "oracle.num_samples")
    elif resume is not None:  # the checkpoint holds the training data the run started with
        n_local = resume.tensors["data.real"].shape[0] // world.size
    select_set: Optional[torch.Tensor] = None
    if resume is None:
        if dataset is not None:  # the training file, shuffled once (the same order on every rank)
            assert dataset.train is not None
            train_ids = dataset.train.ids
            if select_source(cfg) == "share":  # pretrain.select's held-out lines, never trained on
                select_set, train_ids = split_share(train_ids, cfg)
                select_set = select_set.to(device)
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
        if select_source(cfg) == "share":
            select_set = t["data.select"].to(device)
        real = all_real[world.rank * n_local:(world.rank + 1) * n_local]
        for prefix, module in {"generator": gen, **models}.items():
            module.load_state_dict(resume.module_state(prefix))
        for name, opt in optimizers.items():
            ckpt.optimizer_from_flat(name, opt, resume.state["optimizers"][name], t)
        if world.distributed:
            own = {f"rank{world.rank}.{k}": g for k, g in rngs.items()}
            ckpt.rng_from_flat(own, resume.state["rng"], t)
        else:
            ckpt.rng_from_flat(rngs, resume.state["rng"], t)
        state = TrainState.from_dict(resume.state["train_state"])
    gen_model: Optional[torch.nn.Module] = None
    wrapped: dict[str, torch.nn.Module] = {}
    if world.distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP
        ids = [device.index] if device.type == "cuda" else None
        gen_model = DDP(gen, device_ids=ids)
        wrapped = {name: DDP(models[name], device_ids=ids) for name in declared.distributed}
    references = None
    if dataset is not None and dataset.test is not None:
        references = References(dataset.test.references, 5)
    heldout = None
    if oracle is not None and cfg.oracle.test_samples > 0:  # the same sequences on every rank, then its share
        n_test = shard_size(cfg.oracle.test_samples, world, "oracle.test_samples")
        heldout = oracle.sample(cfg.oracle.test_samples, make_rng(HELDOUT_SEED, STREAM_HELDOUT, device))
        heldout = heldout[world.rank * n_test:(world.rank + 1) * n_test]
    source = select_source(cfg)
    if source == "valid":
        assert dataset is not None and dataset.valid is not None
        select_set = dataset.valid.ids.to(device)
    elif source == "oracle":
        assert oracle is not None
        select_set = oracle.sample(select_count(cfg, cfg.oracle.num_samples),
                                   make_rng(HELDOUT_SEED, STREAM_SELECT, device))
    return Run(cfg=cfg, sizes=sizes, run_dir=run_dir, device=device, oracle=oracle, dataset=dataset,
               references=references, real=real, all_real=all_real, gen=gen, models=models, optimizers=optimizers,
               rngs=rngs, state=state, log=log, world=world, heldout=heldout, gen_model=gen_model, wrapped=wrapped,
               objective=objective, select_set=select_set)


#: the checkpoint prefix of the best MLE epoch's generator (pretrain.select=best_valid)
MLE_BEST = "mle_best"


def select_source(cfg: Config) -> Optional[str]:
    """What pretrain.select=best_valid selects on: 'valid' (data.valid), 'share' (a held-out share of the
    training lines), 'oracle' (fresh oracle sequences); None with select=last."""
    if cfg.pretrain.select != "best_valid":
        return None
    if cfg.task == "oracle":
        return "oracle"
    return "valid" if cfg.data.valid else "share"


def select_count(cfg: Config, lines: int) -> int:
    """Sequences in pretrain.select's selection set drawn from `lines` (training lines or oracle.num_samples)."""
    return max(1, round(cfg.pretrain.valid_share * lines))


def split_share(train_ids: torch.Tensor, cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """(held out, kept) rows of the encoded training file: `select_count` rows drawn by the seed's
    STREAM_SELECT, the rest in file order."""
    order = torch.randperm(train_ids.shape[0], generator=torch.Generator().manual_seed(
        stream_seed(cfg.seed, STREAM_SELECT)))
    n = select_count(cfg, train_ids.shape[0])
    return train_ids[order[:n]], train_ids[order[n:].sort().values]


def describe_select_set(run: "Run") -> str:
    """Where pretrain.select=best_valid's sequences come from, for the log and summary.json."""
    source, n = select_source(run.cfg), 0 if run.select_set is None else run.select_set.shape[0]
    return {"valid": f"data.valid ({n} sequences)",
            "share": f"a held-out share of data.train (pretrain.valid_share={run.cfg.pretrain.valid_share}: "
                     f"{n} lines, never trained on)",
            "oracle": f"{n} fresh oracle sequences of their own stream (not NLL-test's)"}.get(source or "", "")


def check_held_out_files(cfg: Config) -> None:
    """Refuse a test or validation file that is the training file (its NLL and BLEU would score lines
    the generator learnt by heart)."""
    train = cfg.data.train
    for key in ("test", "valid"):
        other = getattr(cfg.data, key)
        if not (train and other):
            continue
        same = Path(train).resolve() == Path(other).resolve()
        try:
            same = same or Path(train).samefile(other)
        except OSError:
            pass  # a missing file: load_dataset names it
        if same:
            raise ConfigError(f"data.{key}={other} is the training file (data.train); held-out scores need lines "
                              f"the generator never trained on: give another --{key} file, or none")


def checkpoint_sizes(resume: ckpt.Checkpoint) -> dict[str, Any]:
    """The sizes a checkpoint's models were made with: saved in its state (newer checkpoints), else read
    from its tensors (the generator's output layer, the real data's length)."""
    saved = resume.state.get("sizes")
    if isinstance(saved, dict):
        return saved
    t = resume.tensors
    return {"vocab_size": int(t["generator.W_out"].shape[1]), "seq_len": int(t["data.real"].shape[1])}


def resume_config(run_dir: Path, source: Optional[str], overrides: list[str]) -> Config:
    """The config `seqgan train --resume RUN_DIR` continues with: the run's config.yaml, or `source` (a
    preset or file given again), with `overrides` (--set and the flags) applied and paths made absolute.
    Refused (ConfigError, one line naming the keys) when it differs from the run's config.yaml outside
    `config.RESUME_SAFE_KEYS`; `check_resume_files` then holds the run's files to its checkpoint."""
    from seqgan.config import RESUME_SAFE_KEYS, diff, load_config, load_run_config
    try:
        saved = load_run_config(run_dir)
    except ConfigError as e:
        raise ConfigError(f"--resume {e}") from None
    base = None if source else saved.model_dump()
    cfg = absolute_paths(load_config(source, overrides, base=base))
    changed = {k: v for k, v in diff(saved, cfg).items() if k not in RESUME_SAFE_KEYS}
    if changed:
        what = ", ".join(f"{k} ({a!r} -> {b!r})" for k, (a, b) in sorted(changed.items()))
        raise ConfigError(f"--resume {run_dir}: the config differs from the run's in {what}; only "
                          f"{', '.join(sorted(RESUME_SAFE_KEYS))} may change when resuming")
    return cfg


def check_resume_files(resume: ckpt.Checkpoint, cfg: Config, run_dir: Path) -> tuple[Sizes, Optional[Vocabulary]]:
    """Refuse (ConfigError, one line naming the file and keys) a resume whose config, sizes.json or
    vocab.json differ from what the checkpoint was made with (an edited file would re-score against
    another oracle, or break the models); returns the run's sizes and (task=data) its vocabulary."""
    from seqgan.config import RESUME_SAFE_KEYS, _flatten, load_run_sizes
    name = resume.path.name
    then_cfg = resume.state.get("config")
    if isinstance(then_cfg, dict):
        then, defaults = _flatten(then_cfg), _flatten(to_dict(type(cfg)()))
        now = _flatten(to_dict(cfg))
        changed = {k: (then.get(k, defaults.get(k)), v) for k, v in now.items()
                   if k not in RESUME_SAFE_KEYS and then.get(k, defaults.get(k)) != v}
        if changed:
            what = ", ".join(f"{k} ({a!r} -> {b!r})" for k, (a, b) in sorted(changed.items()))
            raise ConfigError(f"--resume {run_dir}: the config differs from the one its checkpoint {name} was made "
                              f"with in {what} (an edited config.yaml?); restore those values: only "
                              f"{', '.join(sorted(RESUME_SAFE_KEYS))} may change when resuming")
    sizes = load_run_sizes(run_dir)  # a malformed sizes.json: one line naming it
    held = checkpoint_sizes(resume)
    differ = {k: (v, getattr(sizes, k)) for k, v in held.items() if getattr(sizes, k, v) != v}
    if differ:
        what = ", ".join(f"{k} {b} (the checkpoint's: {a})" for k, (a, b) in sorted(differ.items()))
        raise ConfigError(f"{run_dir / SIZES}: {what}; checkpoint {name} was made with other sizes: restore the "
                          f"run's own sizes.json ({json.dumps(held)})")
    vocab = None
    if cfg.task == "data":
        path = run_dir / "vocab.json"
        try:
            vocab = Vocabulary.load(path)
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the run's vocabulary ({e.strerror}); restore it") from None
        digest = resume.state.get("vocab_sha256")
        if len(vocab) != sizes.vocab_size or (digest is not None and digest != vocab.digest()):
            raise ConfigError(f"{path}: not the vocabulary checkpoint {name} was trained with ({len(vocab)} ids"
                              + (", other tokens" if len(vocab) == sizes.vocab_size else
                                 f", the run has {sizes.vocab_size}") + "); restore the run's own vocab.json")
    return sizes, vocab


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


def run_memory(cfg: Config, max_len: int, lines: int) -> int:
    """Bytes a data run with sequences of `max_len` tokens would need, roughly: the padded data
    (training, and as much again for held-out files), and the discriminator (weights, gradients
    and Adam's two moments; a training batch's convolution activations, three times for the
    backward pass). Dominated by the discriminator, whose widths grow with the length."""
    from seqgan.config import paper_filters
    T = max_len + 1
    d = cfg.discriminator
    sizes, nums = paper_filters(T) if d.filter_sizes is None else (d.filter_sizes, d.num_filters or [])
    nums = [max(1, round(n * d.filter_scale)) for n in nums]
    F = sum(nums)
    params = sum(n * k * d.emb_dim for k, n in zip(sizes, nums)) + 2 * F * F
    activations = cfg.train.batch_size * sum((T - k + 1) * n for k, n in zip(sizes, nums)) * 3
    return 2 * lines * T * 8 + 16 * params + 4 * activations


def prepare(cfg: Config, run_dir: Path, resume: Optional[ckpt.Checkpoint], world: World,
            device: torch.device) -> tuple[Config, Sizes, Optional[Oracle], Optional[Dataset]]:
    """Checks and inputs before anything is written: the config with absolute paths, the sizes,
    the oracle or the data. Raises ConfigError (or OracleFileError / DataError) naming what to change.
    (The objective is loaded by `train`, after these checks.)"""
    check_world(cfg, world)
    if resume is not None:
        check_resume(resume, world, device)  # before anything in the run directory changes
    problem = check_precision(cfg.train.precision, device)
    if problem:
        raise ConfigError(problem)
    cfg = absolute_paths(cfg)
    oracle: Optional[Oracle] = None
    dataset: Optional[Dataset] = None
    vocab: Optional[Vocabulary] = None
    saved_sizes: Optional[Sizes] = None
    if resume is not None:  # what the checkpoint was made with, not what the run directory's files now say
        saved_sizes, vocab = check_resume_files(resume, cfg, run_dir)
    if cfg.task == "data":
        check_held_out_files(cfg)
        max_len = cfg.data.max_len
        if saved_sizes is not None and not max_len:  # the length the run found in its training file
            max_len = saved_sizes.seq_len - 1
        data_cfg = cfg.data.model_copy(update={"max_len": max_len})
        dataset = load_dataset(data_cfg, vocab, read_train=resume is None,  # resumed: the checkpoint has the data
                               cost=lambda max_len, lines: run_memory(cfg, max_len, lines))
        sizes = Sizes.of(cfg, len(dataset.vocab), dataset.max_len)
        real = dataset.train.ids.shape[0] if dataset.train is not None else \
            int(resume.tensors["data.real"].shape[0]) if resume is not None else 0
        heldout = sum(e.ids.shape[0] for e in (dataset.valid, dataset.test) if e is not None)
        memory.check_run(cfg, sizes, real, heldout, device.type, device.index)  # every phase, before any work
        if dataset.train is not None:
            lines = dataset.train.ids.shape[0]
            kept = lines - (select_count(cfg, lines) if select_source(cfg) == "share" else 0)
            if kept // world.size < run_batch(cfg, world):
                held = f" ({lines - kept} held out by pretrain.valid_share)" if kept < lines else ""
                raise ConfigError(f"data.train={cfg.data.train}: {kept} sequences{held} make no full batch "
                                  f"of train.batch_size={cfg.train.batch_size}; give more data or a smaller batch")
    else:
        sizes = Sizes.of(cfg)
        heldout = cfg.oracle.test_samples + (select_count(cfg, cfg.oracle.num_samples) if select_source(cfg) else 0)
        memory.check_run(cfg, sizes, cfg.oracle.num_samples, heldout, device.type, device.index)
        oracle = build_oracle(cfg).to(device)
        oracle.set_compile(cfg.train.compile)
    return cfg, sizes, oracle, dataset


#: the run's derived sizes (vocabulary, sequence length, start and end tokens), beside config.yaml
SIZES = "sizes.json"


def train(cfg: Config, run_dir: str | Path, quiet: bool = False,
          resume: Optional[ckpt.Checkpoint] = None, world: World = SINGLE,
          device: Optional[torch.device] = None) -> RunResult:
    """Run (or, with `resume`, continue) the method of `cfg` (`cfg.method`) in `run_dir`.

    Under torchrun pass this process's `world` and `device` (`seqgan.distributed.init`);
    rank 0 alone writes the run directory and holds its lock. Raises `Interrupted` after saving
    a checkpoint when SIGINT/SIGTERM arrives, and `seqgan.objective.ObjectiveError` when the
    `reward.objective` function fails (the checkpoints already written stay as they were). The
    process's torch thread count and glibc allocator settings (`train.threads`,
    `train.tune_allocator`) apply while the run lasts and are restored afterwards.
    """
    run_dir = Path(run_dir)
    device = device or resolve_device(cfg.device)
    method = registry.get(cfg.method).module()
    cfg, sizes, oracle, dataset = prepare(cfg, run_dir, resume, world, device)
    if hasattr(method, "check"):  # the method's own refusals, before anything is written (seqgan.plan)
        method.check(cfg, sizes, world)
    r = cfg.reward  # your function, imported once, before anything is written (a ConfigError names what is wrong)
    objective = load_objective(r.objective, *r.objective_range) if r.objective else None
    with cpu_settings(cfg.train.threads, cfg.train.tune_allocator, announce=False), \
            RunLock(run_dir, enabled=world.is_main):
        if world.is_main:
            if dataset is not None and resume is None:
                atomic_write_text(run_dir / "vocab.json", dataset.vocab.to_json())
            atomic_write_text(run_dir / "config.yaml", dump_yaml(cfg))
            atomic_write_text(run_dir / SIZES, json.dumps(sizes.to_dict()))
        barrier(world)
        return _train(cfg, sizes, run_dir, quiet, resume, world, device, method, oracle, dataset, objective)


def _train(cfg: Config, sizes: Sizes, run_dir: Path, quiet: bool, resume: Optional[ckpt.Checkpoint], world: World,
           device: torch.device, method: Any, oracle: Optional[Oracle], dataset: Optional[Dataset],
           objective: Optional[Objective] = None) -> RunResult:
    elapsed, offsets, purge = 0.0, None, None
    if resume is not None:
        elapsed, offsets = float(resume.state["elapsed_s"]), resume.state["log_offsets"]
        purge = int(resume.state.get("global_step", 0)) or None
    with MetricLogger(run_dir, quiet, elapsed, offsets, cfg.train.tensorboard, purge, enabled=world.is_main) as log:
        run = _setup(cfg, sizes, run_dir, device, oracle, dataset, log, resume, world, method, objective)
        phases = method.plan(run)
        if resume is None:
            # the allocator tuning is named here, not in a notice of its own (train.tune_allocator=false: off)
            log.print(f"seqgan: run directory {run_dir}  method {cfg.method}  device {device}  "
                      f"torch threads {torch.get_num_threads()}"
                      + ("  glibc malloc tuned" if cfg.train.tune_allocator and allocator_tuned() else "")
                      + (f"  {world.size} torchrun processes" if world.distributed else ""))
            if oracle is not None:
                log.print(
                    f"oracle: {cfg.oracle.path or f'seeded N(0, {cfg.oracle.init_std}), seed {cfg.oracle.seed}'}; "
                    f"{cfg.oracle.num_samples} real sequences; the oracle's NLL of its own samples "
                    f"{oracle.nll(run.real):.4f}"
                )
            if dataset is not None:
                for line in dataset.report:
                    if line.startswith("seqgan: warning") and world.is_main:
                        print(line, file=sys.stderr)  # shown with -q too
                    else:
                        log.print(line)
                log.print(f"sequences of at most {dataset.max_len} tokens + <eos> ({cfg.data.tokenizer} tokenizer)"
                          + (f"; discriminator filters {run.disc.filter_sizes}" if run.disc is not None else ""))
                if run.main_metric is None:
                    log.print("seqgan: warning: no --test or --valid file: no held-out NLL or BLEU will be reported")
            log.print(f"generator: {run.gen.kind}, {run.gen.num_parameters():,} parameters")
            if objective is not None and cfg.reward.mix < 1:
                r = cfg.reward
                log.print(f"reward: {r.mix:g} x the method's critic + {1 - r.mix:g} x {objective.name} "
                          f"(scores in [{objective.low:g}, {objective.high:g}], "
                          f"duplicate penalty {r.duplicate_penalty})")
            # the untrained generator: the "Random" row of the paper's Table 1
            log.log(INIT, 0, 0, **run.evaluate(INIT, 0))
            run.checkpoint()  # checkpoint 0: a run killed before its first step can still be resumed
        else:
            st = run.state
            log.print(f"seqgan: resuming {run_dir} from {resume.path.name}: phase {st.phase}, step {st.step}"
                      + (f", part {st.part}" if st.part else ""))
        with _stop_on_signals(run), cuda_precision(cfg.train.precision, device):
            run_phases(run, phases)
        if world.is_main:
            _write_outputs(run)
        run.gen_model, run.wrapped = None, {}  # DDP reducers hold gloo/nccl work: release them before teardown
        barrier(world)
        result = RunResult(run_dir, run.state.curves, log.elapsed())
        main = run.main_metric
        label = (main or "nll").replace("nll_", "NLL-")
        curves = run.state.curves.get(main or "", {})
        log.print(f"done in {result.wall_time_s:.0f} s: " + ", ".join(
            f"{ph} {label} {c[0][1]:.4f} -> {c[-1][1]:.4f}" for ph, c in curves.items() if c and ph != INIT))
    return result


def _write_outputs(run: Run) -> None:
    meta = {"format": "seqgan", "config": to_dict(run.cfg)}
    save_weights(run.run_dir / "generator.safetensors", run.gen, meta)
    saved = [name for name in run.models if name not in ("rollout", MLE_BEST)]  # the rollout copy trails the generator
    for name in saved:
        save_weights(run.run_dir / f"{name}.safetensors", run.models[name], meta)
    write_weight_sums(run.run_dir, ["generator.safetensors", "generator_mle.safetensors",
                                    "generator_mle_best.safetensors", *(f"{name}.safetensors" for name in saved),
                                    *(f"{name}_mle.safetensors" for name in run.gen.companions())])
    samples = run.gen.sample(1000, torch.Generator(device=run.device).manual_seed(stream_seed(run.cfg.seed, 99)))
    if run.dataset is not None:
        atomic_write_text(
            run.run_dir / "generator_samples.txt", "".join(run.decode(r) + "\n" for r in samples.tolist())
        )
    else:
        write_tokens(run.run_dir / "generator_samples.txt", samples)
    summary: dict[str, Any] = {
        "method": run.cfg.method,
        "seed": run.cfg.seed,
        "wall_time_s": round(run.log.elapsed(), 1),
    }
    summary.update(run.state.curves)
    summary["evaluations"] = run.state.evaluations
    if run.state.mle_best:
        summary["mle_select"] = {**run.state.mle_best, "on": describe_select_set(run)}
    summary.update({"torch": torch.__version__, "device": str(run.device), "threads": torch.get_num_threads(),
                    "precision": run.cfg.train.precision, "machine": platform.processor() or platform.machine()})
    atomic_write_text(run.run_dir / "summary.json", json.dumps(json_safe(summary), indent=1))


class _stop_on_signals:
    """SIGINT/SIGTERM set `run.stop_signal`; the run saves and stops after the current part.
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
