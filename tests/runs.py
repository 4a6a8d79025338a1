"""Helpers shared by the tests that run `seqgan train` in subprocesses and compare runs."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path


def metrics_without_timing(run: Path) -> list[dict]:
    """metrics.jsonl records without the wall-clock keys (*_s), which differ between runs."""
    return [{k: v for k, v in json.loads(ln).items() if not k.endswith("_s")}
            for ln in (run / "metrics.jsonl").read_text().splitlines()]


def wait_for_phase(proc: subprocess.Popen, out: Path, phase: str = "adversarial", timeout: float = 120) -> None:
    """Block until the run in `out` has logged a record of `phase` (the process must stay alive)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        m = out / "metrics.jsonl"
        if m.exists() and f'"phase": "{phase}"' in m.read_text():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"the run did not reach the {phase} phase in {timeout} s")
