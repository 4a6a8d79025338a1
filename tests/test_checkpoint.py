"""Checkpoints and resume: a run killed at a random point (SIGKILL, SIGTERM, a damaged
newest checkpoint) and resumed ends exactly as an uninterrupted run."""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import seqgan
from seqgan import checkpoint as ckpt
from seqgan.api import RunLoadError
from seqgan.cli import main
from runs import metrics_without_timing, wait_for_phase


def assert_same_run(a: Path, b: Path) -> None:
    assert metrics_without_timing(a) == metrics_without_timing(b)
    assert (a / "experiment-log.txt").read_text() == (b / "experiment-log.txt").read_text()
    for name in ("generator.safetensors", "discriminator.safetensors"):
        wa, wb = load_file(str(a / name)), load_file(str(b / name))
        assert wa.keys() == wb.keys()
        for k in wa:
            assert torch.equal(wa[k], wb[k]), (name, k)


def start(resume_yaml: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "seqgan", "train", "--config", str(resume_yaml), "--out", str(out),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def resume(out: Path, *extra: str) -> int:
    return main(["train", "--resume", str(out), "-q", *extra])


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_and_resumed_equals_uninterrupted(sig, resume_yaml, reference_run, tmp_path):
    out = tmp_path / "run"
    proc = start(resume_yaml, out)
    wait_for_phase(proc, out)
    time.sleep(random.Random(sig).uniform(0.0, 0.3))  # a random point inside the adversarial phase
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert not (out / "summary.json").exists(), "the run finished before the signal; nothing was tested"
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
        assert "checkpoint" in err and f"--resume {out}" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    assert ckpt.list_checkpoints(out), "no checkpoint was written before the kill"
    assert resume(out) == 0
    assert_same_run(out, reference_run)


def test_damaged_latest_checkpoint_falls_back(resume_yaml, reference_run, tmp_path, capsys):
    out = tmp_path / "run"
    proc = start(resume_yaml, out)
    wait_for_phase(proc, out)
    time.sleep(0.1)
    proc.kill()
    proc.communicate(timeout=60)
    ckpts = ckpt.list_checkpoints(out)
    assert len(ckpts) >= 2
    newest = ckpts[-1] / ckpt.TENSORS
    with open(newest, "r+b") as f:  # truncate to half: a crash during a copy, a full disk
        f.truncate(newest.stat().st_size // 2)
    assert resume(out) == 0
    assert f"checkpoint {ckpts[-1].name} is damaged" in capsys.readouterr().err
    assert_same_run(out, reference_run)


def test_resume_refuses_a_changed_config_and_extends_iterations(resume_yaml, reference_run, tmp_path, capsys):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    assert resume(out, "--set", "generator.hidden_dim=32") == 2
    err = capsys.readouterr().err
    assert "generator.hidden_dim (16 -> 32)" in err and err.startswith("seqgan: error: --resume")
    # a finished run can be extended: 8 -> 10 iterations continue from the last checkpoint
    assert resume(out, "--set", "adversarial.iterations=10") == 0
    adv = [r for r in metrics_without_timing(out) if r["phase"] == "adversarial"]
    assert [r["step"] for r in adv] == list(range(10))
    assert adv[:7] == [r for r in metrics_without_timing(reference_run) if r["phase"] == "adversarial"][:7]
    assert resume(tmp_path / "nothing") == 2


class _Payload:
    """Unpickling this would create a file: the proof that something was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_loading_never_unpickles(reference_run, tmp_path):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(marker))
    (out / "generator.safetensors").write_bytes(payload)
    with pytest.raises(RunLoadError, match="checksum mismatch"):  # weights.sha256 catches it first
        seqgan.load(out)
    (out / "weights.sha256").unlink()
    with pytest.raises(RunLoadError, match="not a valid safetensors file"):
        seqgan.load(out)
    # a checkpoint whose tensors are a pickle, with a matching checksum, is refused too
    newest = ckpt.list_checkpoints(out)[-1]
    (newest / ckpt.TENSORS).write_bytes(payload)
    state = json.loads((newest / ckpt.STATE).read_text())
    state["sha256"][ckpt.TENSORS] = ckpt._sha256(newest / ckpt.TENSORS)
    state["sha256"][ckpt.STATE] = ckpt._state_digest(state)
    (newest / ckpt.STATE).write_text(json.dumps(state))
    with pytest.raises(ckpt.CheckpointError, match="not a valid safetensors file"):
        ckpt.load(newest)
    assert not marker.exists()


def test_checkpoint_roundtrip_of_optimizer_and_rng(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    g = torch.Generator().manual_seed(5)
    tensors: dict = {}
    meta = {"optim": ckpt.optimizer_to_flat("a", opt, tensors), "rng": ckpt.rng_to_flat({"g": g}, tensors)}
    path = ckpt.save(tmp_path, 1, tensors, meta, keep=1)
    expected_next = torch.rand(3, generator=g)
    loaded = ckpt.load(path)
    opt2 = torch.optim.Adam(model.parameters(), lr=0.1)
    ckpt.optimizer_from_flat("a", opt2, loaded.state["optim"], loaded.tensors)
    for k, v in opt.state_dict()["state"][0].items():
        assert torch.equal(v, opt2.state_dict()["state"][0][k])
    g2 = torch.Generator()
    ckpt.rng_from_flat({"g": g2}, loaded.state["rng"], loaded.tensors)
    assert torch.equal(torch.rand(3, generator=g2), expected_next)
    ckpt.save(tmp_path, 2, tensors, meta, keep=1)  # keep=1 prunes the first
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["ckpt-00000002"]


def test_resume_on_another_device_type_is_refused_before_writing(reference_run, tmp_path):
    import shutil
    from seqgan.config import ConfigError, load_config
    from seqgan.train.run import train
    out = tmp_path / "run"
    shutil.copytree(reference_run, out)
    latest = ckpt.latest_valid(out)
    latest.state["device_type"] = "cuda"  # as if the run had been made on a GPU
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(ConfigError, match="made on cuda and this process is on cpu"):
        train(load_config(str(out / "config.yaml")), out, quiet=True, resume=latest)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_run_killed_before_its_first_step_resumes(resume_yaml, reference_run, tmp_path):
    """Checkpoint 0 is written before training starts."""
    out = tmp_path / "run"
    proc = start(resume_yaml, out)
    t0 = time.time()
    while not ckpt.list_checkpoints(out):
        assert proc.poll() is None and time.time() - t0 < 60
        time.sleep(0.005)
    proc.kill()
    proc.communicate(timeout=60)
    assert resume(out) == 0
    assert_same_run(out, reference_run)
