"""The Table 1 methods together: exact resume of a Scheduled Sampling and a PG-BLEU run after
SIGTERM, and SeqGAN, SS and PG-BLEU each with every generator kind (a run with a finite NLL-oracle
that loads and evaluates).
Each method's own tests are in tests/test_<method>.py, compare's in test_compare.py and
reproduce's in test_reproduce.py."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time

import pytest
import torch

from seqgan.cli import main
from runs import metrics_without_timing, train_cli, wait_for_phase, weights


# ----------------------------------------------------------------------------- exact resume

# pg_bleu is slow; the default suite keeps the scheduled_sampling case
@pytest.mark.parametrize("method", ["scheduled_sampling", pytest.param("pg_bleu", marks=pytest.mark.slow)])
def test_resume_of_the_baselines_is_exact(method, baseline_yaml, tmp_path):
    ref = tmp_path / "ref"
    assert train_cli(baseline_yaml, ref, f"method={method}") == 0
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "seqgan", "train", "--config", str(baseline_yaml), "--out", str(out),
                             "-q", "--set", f"method={method}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    phase = "adversarial" if method == "pg_bleu" else "scheduled_sampling"
    wait_for_phase(proc, out, phase)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert not (out / "summary.json").exists()
    assert main(["train", "--resume", str(out), "-q"]) == 0
    assert metrics_without_timing(out) == metrics_without_timing(ref)
    wa, wb = weights(out), weights(ref)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


# ----------------------------------------------------------------------------- every kind, every method

@pytest.mark.parametrize("kind", ["gru", "transformer"])
@pytest.mark.parametrize("method", ["seqgan", "scheduled_sampling", "pg_bleu"])
def test_every_method_runs_with_every_generator_kind(kind, method, tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--set", f"method={method}",
                 "--set", f"generator.kind={kind}", "--set", "scheduled_sampling.decay=0.3"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == method and all(math.isfinite(v) for ph in s["nll_oracle"].values() for _, v in ph)
    import seqgan
    gen = seqgan.load(out)
    assert gen.kind == kind and gen.sample(3, seed=0).shape == (3, 8)
    assert main(["evaluate", str(out), "--json", "-n", "64"]) == 0


@pytest.mark.parametrize("sets, message", [
    (["method=leakgan", "leakgan.step_size=20"], "leakgan.step_size=20 must be below the sequence length"),
    (["method=leakgan", "pretrain.select=best_valid"], "pretrain.select=best_valid: method=leakgan"),
    (["method=relgan", "reward.kind=constant"], "reward.kind=constant has no meaning for method=relgan"),
    (["method=maligan", "maligan.samples_per_prefix=5"], "maligan.samples_per_prefix=5 must divide"),
])
def test_a_method_s_refusal_writes_nothing_so_the_fixed_command_can_reuse_the_directory(gan_yaml, tmp_path, capsys,
                                                                                         sets, message):
    """A method's own check (its `check`) runs before the run directory is written: exit 2, the
    message, and no directory that would make the corrected command fail with 'not empty'."""
    out = tmp_path / "run"
    assert train_cli(gan_yaml, out, *sets) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
