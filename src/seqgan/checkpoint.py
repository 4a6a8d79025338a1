"""Checkpoints: save, verify, load, prune. Never unpickles.

One directory per checkpoint, `<run>/checkpoints/ckpt-<serial>/`:

    tensors.safetensors   model weights ("generator.*", "discriminator.*", "rollout.*"),
                          optimizer tensors ("optim.<name>.<param>.<key>"), the run's
                          random streams ("rng.*"), the real data ("data.real")
    state.json            phase, step counters, optimizer scalars and hyper-parameters,
                          the config, log file offsets, and the sha256 of
                          tensors.safetensors and of state.json's own content

A checkpoint is written into a temporary directory, fsynced, and renamed into place, so
a crash leaves either no new checkpoint or a complete one; a write that fails (a full disk)
removes the temporary directory and raises an OSError naming the checkpoint, and the older
checkpoints are kept. `latest_valid()` verifies the
checksums and falls back to the previous checkpoint when the newest one is damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seqgan.files import current_umask, write_error

FORMAT = "seqgan-checkpoint-1"
TENSORS, STATE = "tensors.safetensors", "state.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, damaged, or does not fit the run."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _state_digest(state: dict[str, Any]) -> str:
    """sha256 of the state's canonical JSON (sorted keys), its own checksums left out."""
    body = {k: v for k, v in state.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- optimizers

def optimizer_to_flat(name: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Split an optimizer's state_dict into tensors (added to `tensors`) and JSON."""
    sd = opt.state_dict()
    meta: dict[str, Any] = {"param_groups": sd["param_groups"], "state": {}}
    for idx, st in sd["state"].items():
        entry: dict[str, Any] = {}
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"optim.{name}.{idx}.{key}"] = value.detach().to("cpu").contiguous()
                entry[key] = {"tensor": True}
            else:
                entry[key] = value
        meta["state"][str(idx)] = entry
    return meta


def optimizer_from_flat(name: str, opt: torch.optim.Optimizer, meta: dict[str, Any],
                        tensors: dict[str, torch.Tensor]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for idx, entry in meta["state"].items():
        state[int(idx)] = {k: tensors[f"optim.{name}.{idx}.{k}"] if isinstance(v, dict) and v.get("tensor") else v
                           for k, v in entry.items()}
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


# ----------------------------------------------------------------------------- RNG

def rng_to_flat(
    generators: dict[str, torch.Generator | torch.Tensor], tensors: dict[str, torch.Tensor]
) -> dict[str, Any]:
    """The run's random streams (torch.Generators, or their states gathered from other torchrun
    ranks) as tensors "rng.<name>". Every random draw of a run comes from these streams, never
    from torch's, numpy's or python's global ones, so those are neither saved nor set."""
    for name, g in generators.items():
        tensors[f"rng.{name}"] = g.get_state() if isinstance(g, torch.Generator) else g.to("cpu")
    return {}


def rng_from_flat(generators: dict[str, torch.Generator], meta: dict[str, Any],
                  tensors: dict[str, torch.Tensor]) -> None:
    for name, g in generators.items():
        g.set_state(tensors[f"rng.{name}"])


# ----------------------------------------------------------------------------- save / load

@dataclass
class Checkpoint:
    path: Path
    state: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    def module_state(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoint directories, oldest first."""
    d = checkpoint_dir(run_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_dir() and p.name.startswith("ckpt-"))


def save(run_dir: Path, serial: int, tensors: dict[str, torch.Tensor], state: dict[str, Any],
         keep: int) -> Path:
    """Write checkpoint `serial` atomically, then keep only the newest `keep`."""
    root = checkpoint_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".tmp-ckpt-*"):  # left by a save that was killed
        shutil.rmtree(stale, ignore_errors=True)
    final = root / f"ckpt-{serial:08d}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-ckpt-", dir=root))
    try:
        save_file({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}, str(tmp / TENSORS),
                  metadata={"format": FORMAT})
        state = dict(state, format=FORMAT)
        state["sha256"] = {TENSORS: _sha256(tmp / TENSORS), STATE: _state_digest(state)}
        (tmp / STATE).write_text(json.dumps(state), encoding="utf-8")
        for name in (TENSORS, STATE):
            os.chmod(tmp / name, 0o666 & ~current_umask())  # safetensors writes 0600
            with open(tmp / name, "rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700: other users may read a run
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(root)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)  # the previous checkpoints stay as they were
        err = write_error(e, final)
        if err is None or err is e:
            raise
        raise err from None
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load(path: Path) -> Checkpoint:
    """Load and verify one checkpoint directory (checksum, format); raises CheckpointError."""
    try:
        state = json.loads((path / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path / STATE}: unreadable ({e})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path / STATE}: not a {FORMAT} state file")
    sums = state.get("sha256", {})
    if STATE in sums and sums[STATE] != _state_digest(state):
        raise CheckpointError(f"{path / STATE}: checksum mismatch (modified)")
    expected = sums.get(TENSORS)
    try:
        actual = _sha256(path / TENSORS)
    except OSError as e:
        raise CheckpointError(f"{path / TENSORS}: unreadable ({e})") from None
    if actual != expected:
        raise CheckpointError(f"{path / TENSORS}: checksum mismatch (truncated or modified)")
    try:
        tensors = load_file(str(path / TENSORS))  # safetensors: plain tensor data, no code
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path / TENSORS}: not a valid safetensors file ({e})") from None
    return Checkpoint(path, state, tensors)


def latest_valid(run_dir: Path, warn: Optional[Any] = None) -> Optional[Checkpoint]:
    """The newest checkpoint that verifies; damaged newer ones are reported through `warn`."""
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return load(path)
        except CheckpointError as e:
            if warn is not None:
                warn(f"checkpoint {path.name} is damaged, using the previous one: {e}")
    return None
