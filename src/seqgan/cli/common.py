"""What the commands share: the one-line errors of bad --seed and --out, and the config options."""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Iterator, Optional

from seqgan.config import ConfigError, preset_names

#: the `seqgan` parser's subcommands, to which each command module adds its own (`add_parser`)
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Commands = argparse._SubParsersAction


@contextlib.contextmanager
def writing_out(path: str) -> Iterator[None]:
    """Turn any file-system error while writing `--out PATH` (permission, read-only, not a
    directory, disk full) into the one-line error of bad input (exit 2)."""
    try:
        yield
    except OSError as e:
        raise ConfigError(f"--out {path}: cannot write there ({e.strerror}); choose a writable path") from None


def check_seed(seed: int) -> None:
    from seqgan.config import MAX_SEED
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed {seed}: out of range; seeds range over 0..2**63-1")


def check_out(out: Optional[str], run_dirs: list[str]) -> None:
    """Refuse, before any work, an --out that would overwrite a file the runs read own."""
    from seqgan.files import run_file_hit
    hit = run_file_hit(out, run_dirs) if out else None
    if hit:
        raise ConfigError(f"--out {out}: that is {hit}, a file of the run; choose a path outside the run's files")


def config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=preset_names(), help="a preset shipped with the package (default: quick)")
    p.add_argument("--config", metavar="FILE.yaml", help="a YAML config file (keys as in 'seqgan config --list')")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one key, e.g. --set adversarial.rollout_num=8 (repeatable)")
