"""Benchmark: how does an adversarial iteration scale with torchrun processes on this machine?

Runs the same short job at K = 1 (one process, all cores) and K = 2, 4, ... (torchrun, gloo on
CPU, OMP_NUM_THREADS = cores / K each) at the paper's model sizes, and reads the seconds of
each adversarial iteration's parts from metrics.jsonl (`g_step_s`: sample + rollouts +
policy gradient; `d_steps_s`: the d-steps). The global batch is the same at every K, so the
work is the same; efficiency = t(K=1) / (K * t(K)) per core-share.

    python benchmarks/distributed.py [--procs 1 2] [--iterations 4] [--quick]

Schedule of the job: MLE 1 epoch, no D pre-training, `--iterations` adversarial iterations
(the first is dropped as burn-in), each 1 g-step (N = 16) and 1 d-step of 1 epoch on
`--d-samples` real + as many generated sequences. Writes only under a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_job(procs: int, iterations: int, d_samples: int, out: Path) -> dict[str, float]:
    cores = os.cpu_count() or 1
    sets = ["pretrain.generator_epochs=1", "pretrain.discriminator_rounds=0", f"adversarial.iterations={iterations}",
            "adversarial.discriminator_rounds=1", "adversarial.discriminator_epochs=1",
            f"adversarial.discriminator_samples={d_samples}", f"train.eval_every={iterations + 1}",
            "train.eval_samples=1024", "train.checkpoint_every=0", "train.tensorboard=false", "device=cpu"]
    args = ["-m", "seqgan", "train", "--preset", "paper", "--out", str(out), "-q"]
    for s in sets:
        args += ["--set", s]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if procs == 1:
        cmd = [sys.executable, *args, "--set", f"train.threads={cores}"]
    else:
        env["OMP_NUM_THREADS"] = str(max(1, cores // procs))
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", *args]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"K={procs} failed:\n{r.stderr[-3000:]}")
    recs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    adv = [r for r in recs if r["phase"] == "adversarial"][1:]  # drop the first iteration (burn-in)
    return {"g_step_s": statistics.median(r["g_step_s"] for r in adv),
            "d_steps_s": statistics.median(r["d_steps_s"] for r in adv),
            "wall_s": time.perf_counter() - t0}


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--iterations", type=int, default=4)
    p.add_argument("--d-samples", type=int, default=4992, help="real sequences per d-step (and as many generated)")
    p.add_argument("--quick", action="store_true", help="2 iterations, 1,024-sequence d-steps (a smoke test)")
    a = p.parse_args()
    if a.quick:
        a.iterations, a.d_samples = 2, 1024
    print(f"cores {os.cpu_count()}; paper sizes; {a.iterations} adversarial iterations (first dropped), "
          f"d-step on {a.d_samples} + {a.d_samples} sequences, N = 16, global batch 64")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in a.procs:
            res = run_job(k, a.iterations, a.d_samples, Path(tmp) / f"k{k}")
            rows.append((k, res))
            print(f"K={k}: g-step {res['g_step_s']:.2f} s, d-step {res['d_steps_s']:.2f} s, "
                  f"iteration {res['g_step_s'] + res['d_steps_s']:.2f} s (job wall {res['wall_s']:.0f} s)")
    base = rows[0][1]["g_step_s"] + rows[0][1]["d_steps_s"]
    print("\n| K | g-step s | d-step s | iteration s | speed-up | efficiency |\n|---|---|---|---|---|---|")
    for k, res in rows:
        it = res["g_step_s"] + res["d_steps_s"]
        print(f"| {k} | {res['g_step_s']:.2f} | {res['d_steps_s']:.2f} | {it:.2f} | {base / it:.2f}x | "
              f"{100 * base / it / (k / rows[0][0]):.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
