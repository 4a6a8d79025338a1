"""MetricLogger: metrics.jsonl (one JSON object per record), the original's
experiment-log.txt, TensorBoard scalars when available, and stdout lines that do not
break the tqdm bars. Only the process that owns the run directory logs."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Optional

from tqdm import tqdm

METRICS, EXPLOG = "metrics.jsonl", "experiment-log.txt"
#: the "tensorboard is not installed" notice is printed once per process (not with -q)
_tensorboard_notice_shown = False


class MetricLogger:
    """Appends records to <run>/metrics.jsonl and NLL lines to <run>/experiment-log.txt.

    Every record is flushed as it is written, so a crash loses nothing that was logged.
    `offsets()` gives the files' sizes, stored in each checkpoint; a resumed run first
    truncates the files to the sizes of the checkpoint it resumes from, so the logs then
    read exactly as those of an uninterrupted run.
    """

    def __init__(self, run_dir: str | Path, quiet: bool = False, elapsed_s: float = 0.0,
                 truncate_to: Optional[dict[str, int]] = None, tensorboard: bool = False,
                 purge_step: Optional[int] = None, enabled: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.quiet = quiet or not enabled
        self.start = time.perf_counter() - elapsed_s
        self._tb: Any = None
        if not enabled:  # another torchrun rank owns the files
            return
        for name, size in (truncate_to or {}).items():
            path = self.run_dir / name
            if path.exists() and path.stat().st_size > size:
                os.truncate(path, size)
        self._jsonl = open(self.run_dir / METRICS, "a", encoding="utf-8")
        self._explog = open(self.run_dir / EXPLOG, "a", encoding="utf-8")
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                global _tensorboard_notice_shown
                if not (self.quiet or _tensorboard_notice_shown):  # once per process: bench runs many
                    _tensorboard_notice_shown = True
                    self.print("seqgan: tensorboard is not installed (pip install 'seqgan[tensorboard]'): "
                               "logging to metrics.jsonl only")
            else:
                self._tb = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=purge_step)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def offsets(self) -> dict[str, int]:
        if not self.enabled:
            return {}
        self._jsonl.flush()
        self._explog.flush()
        return {METRICS: self._jsonl.tell(), EXPLOG: self._explog.tell()}

    def log(self, phase: str, step: int, global_step: Optional[int] = None, **values: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"phase": phase, "step": step}
        for k, v in values.items():
            record[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        record["wall_time_s"] = round(self.elapsed(), 3)
        if not self.enabled:
            return record
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        if self._tb is not None and global_step is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)) and v is not None:
                    self._tb.add_scalar(f"{phase}/{k}", v, global_step)
            self._tb.flush()
        return record

    def experiment_log(self, line: str) -> None:
        """A line in the original's format ('pre-training...', 'epoch:\\t5\\tnll:\\t9.42939')."""
        if not self.enabled:
            return
        self._explog.write(line + "\n")
        self._explog.flush()

    def nll_line(self, step: int, nll: float) -> None:
        self.experiment_log(f"epoch:\t{step}\tnll:\t{nll:.6g}")

    def print(self, msg: str) -> None:
        if not self.quiet:
            tqdm.write(msg)

    def bar(self, total: int, desc: str, initial: int = 0) -> "tqdm[Any]":
        return tqdm(total=total, initial=initial, desc=desc, disable=self.quiet, dynamic_ncols=True, leave=True)

    def close(self) -> None:
        if not self.enabled:
            return
        self._jsonl.close()
        self._explog.close()
        if self._tb is not None:
            self._tb.close()

    def __enter__(self) -> "MetricLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
