"""A small Python API over run directories.

    import seqgan
    gen = seqgan.load("runs/quick__0__20261128-120000")
    samples = gen.sample(5, seed=1)          # (5, T) int64 token ids
    gen.config                               # the run's Config
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from safetensors import SafetensorError
from safetensors.torch import load_file

from seqgan import checkpoint as ckpt
from seqgan.config import ConfigError, load_config
from seqgan.models import Generator


class RunLoadError(RuntimeError):
    """The run directory or its weights cannot be loaded."""


def load(run_dir: str | Path, checkpoint: Optional[str | Path] = None, device: str = "cpu") -> Generator:
    """The generator of a run: its final weights, else its newest valid checkpoint.

    Returns a `Generator` in eval mode with `.config` (the run's Config) and `.vocab`
    (None for oracle runs) attached. Weights are read with safetensors only, never pickle.
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
    elif (run_dir / "generator.safetensors").is_file():
        try:
            state = load_file(str(run_dir / "generator.safetensors"))
        except (SafetensorError, OSError, ValueError) as e:
            raise RunLoadError(f"{run_dir / 'generator.safetensors'}: not a valid safetensors file ({e})") from None
    else:
        latest = ckpt.latest_valid(run_dir)
        if latest is None:
            raise RunLoadError(f"{run_dir}: no generator.safetensors and no valid checkpoint")
        state = latest.module_state("generator")
    gen = Generator(cfg.generator)
    try:
        gen.load_state_dict(state)
    except RuntimeError as e:
        raise RunLoadError(f"{run_dir}: the weights do not fit the run's config ({e})") from None
    setattr(gen, "config", cfg)  # the run's Config, for callers
    setattr(gen, "vocab", None)  # oracle runs have no vocabulary
    return gen.to(device).eval()
