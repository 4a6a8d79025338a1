"""MetricLogger: metrics.jsonl (one JSON object per record), the original's
experiment-log.txt, and stdout lines that do not break the tqdm bars."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Optional

from tqdm import tqdm


class MetricLogger:
    """Appends records to <run>/metrics.jsonl and NLL lines to <run>/experiment-log.txt.

    Each file is flushed and fsynced after every record, so a crash loses nothing logged.
    """

    def __init__(self, run_dir: str | Path, quiet: bool = False) -> None:
        self.run_dir = Path(run_dir)
        self.quiet = quiet
        self.start = time.perf_counter()
        self._jsonl = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")
        self._explog = open(self.run_dir / "experiment-log.txt", "a", encoding="utf-8")

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def log(self, phase: str, step: int, **values: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"phase": phase, "step": step}
        for k, v in values.items():
            record[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        record["wall_time_s"] = round(self.elapsed(), 3)
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        return record

    def experiment_log(self, line: str) -> None:
        """A line in the original's format ('pre-training...', 'epoch:\\t5\\tnll:\\t9.42939')."""
        self._explog.write(line + "\n")
        self._explog.flush()

    def nll_line(self, step: int, nll: float) -> None:
        self.experiment_log(f"epoch:\t{step}\tnll:\t{nll:.6g}")

    def print(self, msg: str) -> None:
        if not self.quiet:
            tqdm.write(msg)

    def bar(self, total: int, desc: str) -> "tqdm[Any]":
        return tqdm(total=total, desc=desc, disable=self.quiet, dynamic_ncols=True, leave=True)

    def close(self) -> None:
        self._jsonl.close()
        self._explog.close()

    def __enter__(self) -> "MetricLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def format_metrics(values: dict[str, Optional[float]]) -> str:
    return "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
