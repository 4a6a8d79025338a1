"""Atomic file writes and the original's token-id text format."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import socket
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import torch
from safetensors.torch import save_file


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) on a temporary file beside `path`, fsync it, then rename it over `path`.

    A crash leaves either the old file or the new one, never a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file its usual mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_out(path: str | Path, write: Callable[[Path], object]) -> None:
    """Write a user's `--out PATH` with `write(path)`, as `cp` would: a regular file (or a new
    one) is replaced atomically (`atomic_write`); a symlink is followed, so its target is
    written, not the link replaced; an existing device or FIFO (`/dev/null`, `/dev/stdout`) is
    written through, never replaced by a plain file. A socket cannot be opened: OSError."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # follows symlinks
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        if stat.S_ISSOCK(mode):
            raise OSError(errno.ENXIO, "a socket, not a file", str(path))
        write(path)
        return
    atomic_write(os.path.realpath(path), write)  # a directory fails in os.replace: EISDIR


#: the files a run directory owns (besides checkpoints/ and *.safetensors): `--out` never replaces them
RUN_FILES = ("config.yaml", "sizes.json", "vocab.json", "summary.json", "metrics.jsonl", "weights.sha256",
             "experiment-log.txt", "real_data.txt", "generator_samples.txt", ".lock")


def run_file_hit(out: str | Path, run_dirs: Sequence[str | Path]) -> Optional[str]:
    """The run file `out` would overwrite (symlinks resolved), as 'RUN_DIR/NAME', or None.
    A run owns RUN_FILES, every *.safetensors and everything under checkpoints/."""
    target = Path(os.path.realpath(out))
    for d in run_dirs:
        root = Path(os.path.realpath(d))
        try:
            rel = target.relative_to(root)
        except ValueError:
            continue
        if rel.parts and (rel.parts[0] in RUN_FILES or rel.parts[0] == "checkpoints" or
                          (len(rel.parts) == 1 and rel.suffix == ".safetensors")):
            return str(Path(d) / rel)
    return None


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_error(e: BaseException, path: str | Path) -> Optional[OSError]:
    """A file-system failure while writing `path` as an OSError that names it (None for anything else):
    an OSError without a file name (a full disk fails in write(), not open()), or safetensors' own
    error, whose message carries the OS error code ('I/O error: No space left on device (os error 28)';
    older versions 'IoError(Os { code: 28, ...')."""
    from safetensors import SafetensorError
    if isinstance(e, OSError):
        return e if e.filename else OSError(e.errno, e.strerror or str(e), str(path))
    m = re.search(r"(?:os error |Os \{ code: )(\d+)", str(e)) if isinstance(e, SafetensorError) else None
    if m is not None:
        code = int(m.group(1))
        return OSError(code, os.strerror(code), str(path))
    return None


def save_weights(path: str | Path, module: torch.nn.Module, metadata: dict[str, Any] | None = None) -> None:
    """A module's parameters as safetensors (contiguous CPU copies), atomically. The metadata go
    in as one JSON string with sorted keys (safetensors writes several keys in a random order),
    so equal tensors and metadata give byte-identical files. A file-system failure (a full disk)
    raises an OSError naming `path`, and leaves the previous file as it was."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    meta = {"seqgan": json.dumps(metadata, sort_keys=True)} if metadata else None
    try:
        atomic_write(path, lambda p: save_file(tensors, str(p), metadata=meta))
    except Exception as e:
        err = write_error(e, path)
        if err is None or err is e:
            raise
        raise err from None


WEIGHT_SUMS = "weights.sha256"


def write_weight_sums(run_dir: str | Path, names: list[str]) -> None:
    """`<run>/weights.sha256` in `sha256sum` format for the named files that exist (`sha256sum -c`
    checks them; `seqgan.load` does too)."""
    run_dir = Path(run_dir)
    lines = [f"{sha256_file(run_dir / n)}  {n}\n" for n in names if (run_dir / n).is_file()]
    atomic_write_text(run_dir / WEIGHT_SUMS, "".join(lines))


#: a line of `sha256sum` output: the digest, a space, ' ' (text) or '*' (binary), the file name
_SUM_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


def check_weight_sum(path: Path) -> Optional[str]:
    """None when `path` matches its line in weights.sha256 beside it (or there is no such file,
    or no line for it), else what is wrong: a mismatch, or a weights.sha256 that is not a regular
    file, cannot be read, or holds a line that is not `sha256sum` output (the check would be skipped)."""
    sums = path.parent / WEIGHT_SUMS
    if not sums.exists() and not sums.is_symlink():
        return None
    if not sums.is_file():
        return f"{sums}: not a regular file, so the weights cannot be checked; remove it or restore the run's own"
    try:
        text = sums.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return f"{sums}: unreadable ({getattr(e, 'strerror', None) or e}); remove it or restore the run's own"
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _SUM_LINE.fullmatch(line)
        if m is None:
            return (f"{sums}:{i}: not a '<sha256>  <file name>' line, so the weights cannot be checked; "
                    "remove the file or restore the run's own")
        if m.group(2) == path.name:
            return None if sha256_file(path) == m.group(1).lower() else \
                f"{path}: checksum mismatch with {sums} (modified or damaged)"
    return None


def write_tokens(path: str | Path, seqs: torch.Tensor) -> None:
    """Sequences (M, T) as the original's text files: one line per sequence, ids joined by spaces."""
    rows = seqs.to("cpu").tolist()
    atomic_write_text(path, "".join(" ".join(map(str, r)) + "\n" for r in rows))



def json_safe(obj: Any) -> Any:
    """`obj` with every non-finite float (NaN, inf) replaced by None, so that strict JSON readers
    accept it (json.dumps would write a bare NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


class RunDirBusy(RuntimeError):
    """Another process holds the run directory's lock."""


class RunLock:
    """An exclusive lock on a run directory while a process trains in it: `flock` on
    `<run>/.lock`, which also records the holder (pid, host, start time). The lock goes with
    the process, however it ends, so a killed run never leaves a stale lock behind; a run that
    finishes or is interrupted and saved also deletes the file, so a finished run directory
    names no dead process (a run killed with SIGKILL leaves the file, but not the lock)."""

    NAME = ".lock"

    def __init__(self, run_dir: str | Path, enabled: bool = True) -> None:
        self.run_dir, self.enabled = Path(run_dir), enabled
        self._fd: Optional[int] = None

    def __enter__(self) -> "RunLock":
        if not self.enabled:
            return self
        import fcntl

        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / self.NAME
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                try:
                    holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
                except (ValueError, UnicodeDecodeError):
                    holder = {}
                os.close(fd)
                who = (f"process {holder.get('pid', '?')} on {holder.get('host', '?')} "
                       f"(since {holder.get('since', '?')})" if holder else "another process")
                raise RunDirBusy(f"{self.run_dir} is in use by {who}; wait for it to finish or stop it "
                                 f"(kill -TERM {holder.get('pid', 'PID')}), then resume") from None
            if self._is_current(path, fd):
                break
            os.close(fd)  # a holder that finished between our open and flock deleted this file: retry
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)
        self._fd = fd
        return self

    @staticmethod
    def _is_current(path: Path, fd: int) -> bool:
        """True when `fd` is the file now at `path` (not one a finished holder deleted)."""
        try:
            return os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):  # gone already, or a read-only directory
                (self.run_dir / self.NAME).unlink()  # while still held, so no one locks the old file
            os.close(self._fd)  # releases the flock
            self._fd = None
