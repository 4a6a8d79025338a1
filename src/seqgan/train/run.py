"""A whole SeqGAN run on the oracle task: data, MLE, discriminator pre-training, adversarial.

    1. oracle (seeded or the original's) -> `oracle.num_samples` real sequences
    2. MLE pre-training of the generator, NLL-oracle every `train.eval_every` epochs
    3. discriminator pre-training rounds
    4. adversarial iterations: g-steps (rollout rewards + policy gradient), NLL-oracle,
       rollout-copy update, d-steps
    5. weights (safetensors) and samples written to the run directory
"""

from __future__ import annotations

import copy
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from seqgan.config import Config, ConfigError, dump_yaml, to_dict
from seqgan.files import atomic_write_text, save_weights, write_tokens
from seqgan.logging import MetricLogger
from seqgan.metrics import nll_oracle
from seqgan.perf import configure_cpu
from seqgan.models import Discriminator, Generator, Oracle
from seqgan.train.adversarial import pg_step, update_rollout_policy
from seqgan.train.discriminator import discriminator_round
from seqgan.train.mle import mle_epoch

# independent random streams derived from `seed` (np.random.SeedSequence([seed, stream]))
STREAM_GENERATOR_INIT, STREAM_DISCRIMINATOR_INIT, STREAM_TRAIN, STREAM_EVAL = range(4)


def stream_seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0] >> 1)


def make_rng(seed: int, stream: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream))


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
    """Adam with TF's defaults as the original (betas 0.9/0.999); torch's eps 1e-8 (TF: 1e-8 too).
    The fused kernel (one pass over all parameters) where this torch has it."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr)


@dataclass
class RunResult:
    run_dir: Path
    nll: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    """NLL-oracle curve per phase: {'mle': [(epoch, nll), ...], 'adversarial': [...]}."""
    wall_time_s: float = 0.0


def train(cfg: Config, run_dir: str | Path, quiet: bool = False) -> RunResult:
    """Run every phase of `cfg` and write the run directory. Returns the NLL-oracle curves."""
    run_dir = Path(run_dir)
    device = resolve_device(cfg.device)
    configure_cpu(cfg.train.threads, cfg.train.tune_allocator)
    oracle = build_oracle(cfg).to(device)  # may raise before anything is written

    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", dump_yaml(cfg))
    torch.manual_seed(cfg.seed)  # nothing should draw from the global stream; this pins it anyway
    rng = make_rng(cfg.seed, STREAM_TRAIN, device)
    eval_rng = make_rng(cfg.seed, STREAM_EVAL, device)
    result = RunResult(run_dir, {"mle": [], "adversarial": []})
    B, clip, every = cfg.train.batch_size, cfg.train.grad_clip, cfg.train.eval_every

    with MetricLogger(run_dir, quiet) as log:
        log.print(f"seqgan: run directory {run_dir}  device {device}  torch threads {torch.get_num_threads()}")
        # 1. real data from the oracle ------------------------------------------------------
        real = oracle.sample(cfg.oracle.num_samples, rng)  # (M, T)
        write_tokens(run_dir / "real_data.txt", real)
        log.print(f"oracle: {cfg.oracle.path or f'seeded N(0, {cfg.oracle.init_std}) seed {cfg.oracle.seed}'}; "
                  f"{real.shape[0]} real sequences, oracle NLL of its own samples {oracle.nll(real):.4f}")

        gen = Generator(cfg.generator, torch.Generator().manual_seed(
            stream_seed(cfg.seed, STREAM_GENERATOR_INIT))).to(device)
        disc = Discriminator(cfg.discriminator, cfg.generator.vocab_size, cfg.generator.seq_len,
                             torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_DISCRIMINATOR_INIT))).to(device)

        def evaluate(phase: str, step: int, **extra: Any) -> float:
            nll = nll_oracle(gen, oracle, cfg.train.eval_samples, eval_rng)
            log.log(phase, step, nll_oracle=nll, **extra)
            log.nll_line(step, nll)
            result.nll[phase].append((step, nll))
            return nll

        # 2. MLE pre-training -----------------------------------------------------------------
        log.experiment_log("pre-training...")
        opt_g = make_adam(gen, cfg.pretrain.generator_lr)
        E = cfg.pretrain.generator_epochs
        last_nll = float("nan")
        with log.bar(E, "MLE") as bar:
            for epoch in range(E):
                t0 = time.perf_counter()
                loss = mle_epoch(gen, opt_g, real, B, clip)
                sps = (real.shape[0] // B) * B / (time.perf_counter() - t0)
                if epoch % every == 0 or epoch == E - 1:
                    last_nll = evaluate("mle", epoch, g_loss=loss, samples_per_s=round(sps, 1))
                else:
                    log.log("mle", epoch, g_loss=loss, samples_per_s=round(sps, 1))
                bar.set_postfix(loss=f"{loss:.4f}", nll_oracle=f"{last_nll:.4f}")
                bar.update()

        # 3. discriminator pre-training -------------------------------------------------------
        opt_d = make_adam(disc, cfg.discriminator.lr)
        R = cfg.pretrain.discriminator_rounds
        with log.bar(R, "D pre-train") as bar:
            for r in range(R):
                st = discriminator_round(disc, opt_d, gen, real, cfg.pretrain.discriminator_epochs, B,
                                         cfg.discriminator.l2, rng, cfg.pretrain.discriminator_samples)
                log.log("discriminator", r, d_loss=st.loss, d_acc_real=st.acc_real, d_acc_fake=st.acc_fake)
                bar.set_postfix(d_loss=f"{st.loss:.4f}", acc_real=f"{st.acc_real:.3f}", acc_fake=f"{st.acc_fake:.3f}")
                bar.update()

        # 4. adversarial training --------------------------------------------------------------
        a = cfg.adversarial
        log.experiment_log("adversarial training...")
        opt_pg = make_adam(gen, a.generator_lr)  # a separate Adam, fresh moments
        policy = gen if a.rollout_update_rate is None else copy.deepcopy(gen).requires_grad_(False)
        with log.bar(a.iterations, "adversarial") as bar:
            for it in range(a.iterations):
                t0 = time.perf_counter()
                stats = [pg_step(gen, policy, disc, opt_pg, a, B, clip, rng) for _ in range(a.generator_steps)]
                g_time = time.perf_counter() - t0
                pg = {"g_loss": float(np.mean([s.loss for s in stats])),
                      "reward_mean": float(np.mean([s.reward_mean for s in stats])),
                      "g_step_s": round(g_time / a.generator_steps, 3)}
                nll = None
                if it % every == 0 or it == a.iterations - 1:
                    nll = nll_oracle(gen, oracle, cfg.train.eval_samples, eval_rng)
                    log.nll_line(it, nll)
                    result.nll["adversarial"].append((it, nll))
                update_rollout_policy(policy, gen, a.rollout_update_rate)
                d = {}
                for _ in range(a.discriminator_rounds):
                    st = discriminator_round(disc, opt_d, gen, real, a.discriminator_epochs, B, cfg.discriminator.l2,
                                             rng, a.discriminator_samples)
                    d = {"d_loss": st.loss, "d_acc_real": st.acc_real, "d_acc_fake": st.acc_fake}
                log.log("adversarial", it, **({"nll_oracle": nll} if nll is not None else {}), **pg, **d,
                        iteration_s=round(time.perf_counter() - t0, 3))
                bar.set_postfix(reward=f"{pg['reward_mean']:.3f}",
                                nll_oracle=f"{(result.nll['adversarial'] or [(0, float('nan'))])[-1][1]:.4f}")
                bar.update()

        # 5. outputs --------------------------------------------------------------------------
        meta = {"format": "seqgan", "config": json.dumps(to_dict(cfg))}
        save_weights(run_dir / "generator.safetensors", gen, meta)
        save_weights(run_dir / "discriminator.safetensors", disc, meta)
        write_tokens(run_dir / "generator_samples.txt", gen.sample(min(cfg.train.eval_samples, 1000), eval_rng))
        result.wall_time_s = log.elapsed()
        summary = {"wall_time_s": round(result.wall_time_s, 1), "nll_oracle": result.nll,
                   "torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(),
                   "machine": platform.processor() or platform.machine()}
        atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=1))
        log.print(f"done in {result.wall_time_s:.0f} s: " + ", ".join(
            f"{ph} NLL-oracle {c[0][1]:.4f} -> {c[-1][1]:.4f}" for ph, c in result.nll.items() if c))
    return result

