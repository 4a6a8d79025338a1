"""Helpers shared by the tests that run `seqgan train` in subprocesses and compare runs."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path


def metrics_without_timing(run: Path) -> list[dict]:
    """metrics.jsonl records without the wall-clock keys (*_s), which differ between runs."""
    return [{k: v for k, v in json.loads(ln).items() if not k.endswith("_s")}
            for ln in (run / "metrics.jsonl").read_text().splitlines()]


def wait_for_phase(proc: subprocess.Popen, out: Path, phase: str = "adversarial", timeout: float = 300) -> None:
    """Block until the run in `out` has logged a record of `phase` (the process must stay alive)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        m = out / "metrics.jsonl"
        if m.exists() and f'"phase": "{phase}"' in m.read_text():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"the run did not reach the {phase} phase in {timeout} s")


def write_corpus(folder: Path, sizes: dict[str, int], max_words: int, seed: int = 0) -> None:
    """Small word corpora for data runs: files named by `sizes` with that many lines of 2 to
    `max_words` words each, drawn in order from one seeded stream."""
    rng = random.Random(seed)
    words = "a man dog cat rides sits on the bench street red small .".split()
    for name, n in sizes.items():
        (folder / name).write_text("".join(" ".join(rng.choice(words) for _ in range(rng.randint(2, max_words))) + "\n"
                                           for _ in range(n)))
