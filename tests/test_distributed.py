"""torchrun data parallelism on CPU (gloo): steps equal the single-process steps, a whole
run writes one complete run directory, and a job that loses a rank resumes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqgan import checkpoint as ckpt
from seqgan import distributed
from runs import metrics_without_timing, wait_for_phase, write_corpus

HERE = Path(__file__).resolve().parent
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="needs torch.distributed with gloo")


def torchrun(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.run([*TORCHRUN, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("baseline, reduction, varlen", [("none", "sum", False), ("mean", "mean", False),
                                                        ("none", "sum", True), ("mean", "mean", True)])
def test_steps_equal_the_single_process_step(tmp_path, baseline, reduction, varlen):
    """Also with <eos>: the masked MLE and PG steps of K ranks equal the single-process step
    on the whole batch, although the ranks hold different numbers of tokens."""
    sys.path.insert(0, str(HERE))
    try:
        from dist_worker import fixed_problem, steps
    finally:
        sys.path.remove(str(HERE))
    out = tmp_path / "dist.safetensors"
    r = torchrun(str(HERE / "dist_worker.py"), str(out), baseline, reduction, *(["varlen"] if varlen else []))
    assert r.returncode == 0, r.stderr[-3000:]
    dist_params = load_file(str(out))
    gen, X, Y, Q = fixed_problem(varlen)
    single = steps(gen, gen, X, Y, Q, baseline, reduction, distributed.SINGLE)
    gen0, *_ = fixed_problem(varlen)
    assert not torch.equal(single["pg.W_out"], gen0.W_out)  # the steps did move the parameters
    for k, v in single.items():
        torch.testing.assert_close(dist_params[k], v, atol=1e-5, rtol=1e-5, msg=k)


DIST = {"seed": 5,
        "oracle": {"num_samples": 512, "emb_dim": 16, "hidden_dim": 16},
        "generator": {"vocab_size": 300, "emb_dim": 16, "hidden_dim": 16, "seq_len": 10},
        "discriminator": {"emb_dim": 16, "filter_sizes": [2, 3, 5], "num_filters": [32, 32, 32]},
        "adversarial": {"iterations": 8, "discriminator_rounds": 2, "rollout_num": 4, "reward_baseline": "mean"},
        "train": {"eval_samples": 256, "checkpoint_every": 1, "keep_checkpoints": 3, "tensorboard": False}}


@pytest.fixture(scope="module")
def dist_yaml(tiny_config) -> Path:
    return tiny_config(**DIST)


@pytest.fixture(scope="module")
def dist_reference(dist_yaml, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dref") / "run"
    r = torchrun("-m", "seqgan", "train", "--config", str(dist_yaml), "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_whole_run_writes_one_complete_directory(dist_reference):
    out = dist_reference
    recs = metrics_without_timing(out)
    assert [r["phase"] for r in recs] == ["init"] + ["mle"] * 3 + ["discriminator"] * 2 + ["adversarial"] * 8
    assert [r["step"] for r in recs if r["phase"] == "adversarial"] == list(range(8))  # written once, by rank 0
    assert len((out / "real_data.txt").read_text().splitlines()) == 512  # both shards
    for name in ("config.yaml", "experiment-log.txt", "generator.safetensors", "discriminator.safetensors",
                 "generator_samples.txt", "summary.json"):
        assert (out / name).is_file(), name
    newest = ckpt.load(ckpt.list_checkpoints(out)[-1])
    assert newest.state["world_size"] == 2 and "rng.rank1.train" in newest.tensors
    assert all(r["nll_oracle"] > 0 for r in recs if "nll_oracle" in r)


def _worker_pids(torchrun_pid: int) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (children that have RANK in their environment)."""
    out = {}
    for child in Path(f"/proc/{torchrun_pid}/task/{torchrun_pid}/children").read_text().split():
        try:
            env = dict(kv.split("=", 1) for kv in Path(f"/proc/{child}/environ").read_text().split("\0") if "=" in kv)
        except OSError:
            continue
        if "RANK" in env:
            out[int(env["RANK"])] = int(child)
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to find torchrun's workers")
def test_a_dead_rank_ends_the_job_and_the_run_resumes(dist_yaml, dist_reference, tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([*TORCHRUN, "-m", "seqgan", "train", "--config", str(dist_yaml), "--out", str(out), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for_phase(proc, out)
    os.kill(_worker_pids(proc.pid)[1], signal.SIGKILL)  # rank 1 dies mid-run
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "seqgan" in err and ("ChildFailedError" in err or "lost another torchrun process" in err)
    assert not (out / "summary.json").exists()
    ckpt.load(ckpt.list_checkpoints(out)[-1])  # the newest checkpoint is intact
    r = torchrun("-m", "seqgan", "train", "--resume", str(out), "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    assert metrics_without_timing(out) == metrics_without_timing(dist_reference)
    for name in ("generator.safetensors", "discriminator.safetensors"):
        a, b = load_file(str(out / name)), load_file(str(dist_reference / name))
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_another_process_count_is_refused(dist_reference, tmp_path, capsys):
    from seqgan.cli import main
    out = tmp_path / "run"
    shutil.copytree(dist_reference, out)
    assert main(["train", "--resume", str(out), "-q"]) == 2
    assert "made by 2 process(es), this job has 1" in capsys.readouterr().err


def test_sizes_must_split_evenly(dist_yaml, tmp_path):
    r = torchrun("-m", "seqgan", "train", "--config", str(dist_yaml), "--out", str(tmp_path / "r"), "-q",
                 "--set", "train.batch_size=33", timeout=120)
    assert r.returncode != 0 and "train.batch_size=33 is not divisible by the 2 torchrun processes" in r.stderr
    assert not (tmp_path / "r").exists()


# slow: the default suite keeps a torchrun job resumed: test_a_dead_rank_ends_the_job_and_the_run_resumes
@pytest.mark.slow
def test_sigterm_to_torchrun_saves_and_the_run_resumes(dist_yaml, dist_reference, tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([*TORCHRUN, "-m", "seqgan", "train", "--config", str(dist_yaml), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for_phase(proc, out)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "stopped by SIGTERM" in err
    assert "lost another torchrun process" not in err  # every rank stopped at the same step
    assert not (out / "summary.json").exists()
    r = torchrun("-m", "seqgan", "train", "--resume", str(out), "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    assert metrics_without_timing(out) == metrics_without_timing(dist_reference)


def test_batch_can_scale_with_the_process_count(dist_yaml, tmp_path):
    r = torchrun("-m", "seqgan", "train", "--config", str(dist_yaml), "--out", str(tmp_path / "r"), "-q",
                 "--set", "train.batch_size=33", "--set", "train.scale_batch_with_world=true",
                 "--set", "adversarial.iterations=1", timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    recs = metrics_without_timing(tmp_path / "r")
    assert [r["phase"] for r in recs] == ["init"] + ["mle"] * 3 + ["discriminator"] * 2 + ["adversarial"]
    # the optimizers' step counts give the batches: each rank takes 33 of its 256 real sequences per
    # MLE batch (256 // 33 = 7 batches, 3 epochs), and 33 of its 256 + 256 per D batch (15 batches,
    # 2 pre-training rounds + 2 d-steps of 1 epoch); one policy-gradient step
    t = ckpt.load(ckpt.list_checkpoints(tmp_path / "r")[-1]).tensors
    assert float(t["optim.mle.0.step"]) == 3 * 7
    assert float(t["optim.discriminator.0.step"]) == (2 + 2) * 15
    assert float(t["optim.pg.0.step"]) == 1


# slow: the default suite keeps torchrun runs (test_whole_run_writes_one_complete_directory) and data runs
# (test_cli_data)
@pytest.mark.slow
def test_a_run_on_your_data_under_torchrun(tmp_path):
    """task=data with K=2: the shuffled training lines are split between the ranks, rank 0 writes
    the vocabulary and the text metrics."""
    write_corpus(tmp_path, {"train.txt": 130, "test.txt": 30}, max_words=8)
    out = tmp_path / "run"
    r = torchrun("-m", "seqgan", "train", "--data", str(tmp_path / "train.txt"), "--test", str(tmp_path / "test.txt"),
                 "--out", str(out), "-q", "--set", "generator.emb_dim=8", "--set", "generator.hidden_dim=8",
                 "--set", "discriminator.emb_dim=8", "--set", "discriminator.filter_sizes=[1,2,3]",
                 "--set", "discriminator.num_filters=[4,4,4]", "--set", "pretrain.generator_epochs=2",
                 "--set", "pretrain.discriminator_rounds=1", "--set", "pretrain.discriminator_epochs=1",
                 "--set", "adversarial.iterations=2", "--set", "adversarial.discriminator_rounds=1",
                 "--set", "adversarial.discriminator_epochs=1", "--set", "adversarial.rollout_num=2",
                 "--set", "train.batch_size=16", "--set", "eval.bleu_samples=40", "--set", "train.tensorboard=false",
                 timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    recs = metrics_without_timing(out)
    assert [r["phase"] for r in recs] == ["init"] + ["mle"] * 2 + ["discriminator"] + ["adversarial"] * 2
    assert all(r["nll_test"] > 0 and 0 <= r["bleu2"] <= 1 for r in recs if "nll_test" in r)
    assert (out / "vocab.json").is_file() and (out / "generator_mle.safetensors").is_file()
    newest = ckpt.load(ckpt.list_checkpoints(out)[-1])
    assert newest.state["world_size"] == 2 and newest.tensors["data.real"].shape == (130, 9)
