"""A small Python API over run directories.

    import seqgan
    gen = seqgan.load("runs/quick__0__20261128-120000")
    samples = gen.sample(5, seed=1)          # (5, T) int64 token ids
    gen.config                               # the run's Config
    gen.vocab                                # task=data: the Vocabulary (decode_text(row) -> str); else None
    seqgan.evaluate_run("runs/coco__0__...")  # the metrics table of `seqgan evaluate`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from seqgan import checkpoint as ckpt
from seqgan.config import Config, ConfigError, load_config
from seqgan.data import DataError, Vocabulary, encode_file
from seqgan.metrics import References, text_metrics
from seqgan.models import OracleFileError, build_generator, build_oracle
from seqgan.policies import Policy


class RunLoadError(RuntimeError):
    """The run directory or its weights cannot be loaded."""


def load(run_dir: str | Path, checkpoint: Optional[str | Path] = None, device: str = "cpu",
         mle: bool = False) -> Policy:
    """The generator of a run: its final weights, else its newest valid checkpoint; with
    `mle`, the generator as it was at the end of MLE pre-training (generator_mle.safetensors).

    Returns the generator (a `seqgan.policies.Policy` of the run's `generator.kind`) in eval mode
    with `.config` (the run's Config) and `.vocab` (None for oracle runs) attached. Weights are
    read with safetensors only, never pickle; the caller's random streams are not touched.
    """
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.yaml"
    if not cfg_path.is_file():
        raise RunLoadError(f"{run_dir}: no config.yaml; not a seqgan run directory")
    try:
        cfg = load_config(str(cfg_path))
    except ConfigError as e:
        raise RunLoadError(str(e)) from None
    if checkpoint is not None:
        try:
            state = ckpt.load(Path(checkpoint)).module_state("generator")
        except ckpt.CheckpointError as e:
            raise RunLoadError(str(e)) from None
    elif mle or (run_dir / "generator.safetensors").is_file():
        path = run_dir / ("generator_mle.safetensors" if mle else "generator.safetensors")
        if not path.is_file():
            raise RunLoadError(f"{path}: not found; the run has not finished MLE pre-training")
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise RunLoadError(f"{path}: not a valid safetensors file ({e})") from None
    else:
        latest = ckpt.latest_valid(run_dir)
        if latest is None:
            raise RunLoadError(f"{run_dir}: no generator.safetensors and no valid checkpoint")
        state = latest.module_state("generator")
    gen = build_generator(cfg.generator, torch.Generator().manual_seed(0))  # an init that the weights replace
    try:
        gen.load_state_dict(state)
    except RuntimeError as e:
        raise RunLoadError(f"{run_dir}: the weights do not fit the run's config ({e})") from None
    vocab = None
    if cfg.task == "data":
        try:
            vocab = Vocabulary.load(run_dir / "vocab.json")
        except (OSError, DataError) as e:
            raise RunLoadError(f"{run_dir / 'vocab.json'}: cannot read the run's vocabulary ({e})") from None
    setattr(gen, "config", cfg)  # the run's Config, for callers
    setattr(gen, "vocab", vocab)  # oracle runs have no vocabulary
    return gen.to(device).eval()


def evaluate_run(run_dir: str | Path, test: Optional[str] = None, num_samples: Optional[int] = None,
                 checkpoint: Optional[str | Path] = None, seed: int = 0, device: str = "cpu",
                 mle: bool = False) -> dict[str, Any]:
    """The metrics table of a run's generator (`seqgan evaluate`).

    task=data: nll_test on `test` (default the run's data.test), nll_valid (the run's
    data.valid, if any), BLEU-2..5 of `num_samples` samples (default eval.bleu_samples)
    against the test file, Self-BLEU-2..5, mean sample length. Oracle task: nll_oracle of
    `num_samples` (default train.eval_samples) samples, with the run's oracle. `mle`: score
    the generator saved at the end of MLE pre-training instead of the final one.
    """
    gen = load(run_dir, checkpoint, device, mle)
    cfg: Config = getattr(gen, "config")
    rng = torch.Generator(device=device).manual_seed(seed)
    if cfg.task == "oracle":
        try:
            oracle = build_oracle(cfg).to(device)
        except (ConfigError, OracleFileError, OSError) as e:
            raise RunLoadError(f"cannot rebuild the run's oracle: {e}") from None
        n = num_samples or cfg.train.eval_samples
        return {"samples": n, "nll_oracle": oracle.nll(gen.sample(n, rng))}
    vocab: Vocabulary = getattr(gen, "vocab")
    test = test or cfg.data.test
    try:
        test_set = encode_file(test, vocab, cfg.data, "--test" if test != cfg.data.test else "data.test") \
            if test else None
        valid_set = encode_file(cfg.data.valid, vocab, cfg.data, "data.valid") if cfg.data.valid else None
    except DataError as e:
        raise RunLoadError(str(e)) from None
    n = num_samples or cfg.eval.bleu_samples
    refs = References(test_set.references, 5) if test_set is not None else None
    table: dict[str, Any] = {"samples": n}
    if test:
        table["test"] = str(test)
    table.update(text_metrics(gen, vocab.decode, n, rng, refs,
                              None if test_set is None else test_set.ids.to(device),
                              None if valid_set is None else valid_set.ids.to(device)))
    return table
