"""Training the rows of a table over seeds (`reproduce table1`, `reproduce bench`): each row and
seed is one run directory; a finished run is skipped, an interrupted one resumed, so a command
stopped with Ctrl-C continues when run again.

Every row's run is checked against the config the command asks for before anything is trained,
so that one table never pools runs of two configs (another oracle, another --set):

- a finished run counts only when its config.yaml equals the command's, except in the keys that
  say how, not what, a run computes (`HOW_KEYS`: threads, device, checkpointing);
- an interrupted run is resumed only when its config equals the command's except in the keys
  `seqgan train --resume` may change (`config.RESUME_SAFE_KEYS`, e.g. adversarial.iterations);

otherwise the command stops with one line naming the row, the seed, its directory and the keys.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from seqgan.config import RESUME_SAFE_KEYS, Config, ConfigError, absolute_paths, diff, load_run_config

#: keys that say how a run was computed, not what: a finished run made with other values counts
HOW_KEYS = RESUME_SAFE_KEYS - {"adversarial.iterations", "train.eval_every"}


@dataclass(frozen=True)
class RowRun:
    """One run of a table: its row's label, its seed, the config the command asks for and its directory."""

    label: str
    seed: int
    cfg: Config
    run_dir: Path


def config_changes(run: RowRun, ignore: frozenset[str]) -> dict[str, tuple[object, object]]:
    """The keys (outside `ignore`) whose value in the run's config.yaml differs from the command's
    (paths compared made absolute, as config.yaml holds them)."""
    try:
        saved = load_run_config(run.run_dir)
    except ConfigError as e:
        raise ConfigError(f"row {run.label}, seed {run.seed}: {e}") from None
    return {k: v for k, v in diff(saved, absolute_paths(run.cfg)).items() if k not in ignore}


def check_row(run: RowRun, finished: bool, again: str) -> None:
    """Refuse (ConfigError) a row's existing run made with another config (see the module docstring)."""
    if not (run.run_dir / "config.yaml").is_file():
        return
    changed = config_changes(run, HOW_KEYS if finished else RESUME_SAFE_KEYS)
    if not changed:
        return
    keys = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in sorted(changed.items()))
    what = "finished" if finished else "interrupted (resuming it would mix two configs in one run)"
    raise ConfigError(f"row {run.label}, seed {run.seed}: {run.run_dir} was made with another config and is {what}: "
                      f"{keys}; use another --out, or {again}")


def train_rows(runs: Sequence[RowRun], tool: str, quiet: bool,
               again: str = "the same --scale and --set as before") -> None:
    """Check every row's run first (nothing is trained when one is refused), then train, resume or
    skip each in order. `tool` prefixes the progress lines ('seqgan bench')."""
    from seqgan import checkpoint as ckpt
    from seqgan.train.run import train

    for run in runs:
        check_row(run, (run.run_dir / "summary.json").is_file(), again)
    for run in runs:
        if (run.run_dir / "summary.json").is_file():
            print(f"{tool}: {run.run_dir} is finished", file=sys.stderr)
            continue
        resume = ckpt.latest_valid(run.run_dir) if run.run_dir.is_dir() else None
        if resume is None and run.run_dir.is_dir() and any(p.name != ".lock" for p in run.run_dir.iterdir()):
            raise ConfigError(f"{run.run_dir}: exists without a valid checkpoint; remove it to start the row again")
        print(f"{tool}: {'resuming' if resume else 'training'} {run.label}, seed {run.seed} -> {run.run_dir}",
              file=sys.stderr)
        train(run.cfg, run.run_dir, quiet=quiet, resume=resume)
