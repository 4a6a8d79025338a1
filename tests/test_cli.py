"""The command line end to end on a tiny config: files written, formats, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from seqgan.cli import main
from seqgan.config import load_config
from runs import train_cli


def run_tiny(tiny_yaml: Path, out: Path, *extra: str) -> int:
    """runs.train_cli with raw command-line options `extra` (test_compile imports it too)."""
    return train_cli(tiny_yaml, out, args=extra)


def test_train_writes_a_complete_run_directory(tiny_yaml, tmp_path):
    out = tmp_path / "run"
    assert run_tiny(tiny_yaml, out) == 0
    names = {p.name for p in out.iterdir()}
    assert {"config.yaml", "metrics.jsonl", "experiment-log.txt", "real_data.txt", "generator.safetensors",
            "discriminator.safetensors", "generator_samples.txt", "summary.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    # the saved config is the resolved one and loads back
    assert load_config(str(out / "config.yaml")) == load_config(str(tiny_yaml))
    # metrics: every phase, NLL-oracle at epochs 0, 2 and the last
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    phases = [r["phase"] for r in records]
    assert phases == ["init"] + ["mle"] * 3 + ["discriminator"] * 2 + ["adversarial"] * 3
    assert [r["step"] for r in records if r["phase"] == "mle" and "nll_oracle" in r] == [0, 2]
    assert [r["step"] for r in records if r["phase"] == "adversarial" and "nll_oracle" in r] == [0, 2]
    for r in records:
        assert r["wall_time_s"] >= 0
    adv = [r for r in records if r["phase"] == "adversarial"]
    assert all(0 < r["reward_mean"] < 1 and 0 <= r["d_acc_real"] <= 1 for r in adv)
    # experiment-log.txt in the original's format
    lines = (out / "experiment-log.txt").read_text().splitlines()
    assert lines[0] == "pre-training..." and lines[3] == "adversarial training..."
    assert all(re.fullmatch(r"epoch:\t\d+\tnll:\t[0-9.]+", ln) for ln in lines[1:3] + lines[4:])
    # token files: the original's format, 256 real sequences of 8 ids < 40
    real = [list(map(int, ln.split())) for ln in (out / "real_data.txt").read_text().splitlines()]
    assert len(real) == 256 and all(len(r) == 8 and all(0 <= t < 40 for t in r) for r in real)
    w = load_file(str(out / "generator.safetensors"))
    assert w["W_out"].shape == (8, 40) and w["embedding"].shape == (40, 8)


def test_same_seed_same_run(tiny_yaml, tmp_path):
    assert run_tiny(tiny_yaml, tmp_path / "a") == 0
    assert run_tiny(tiny_yaml, tmp_path / "b") == 0
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if not k.endswith("_s")}
                       for ln in (p / "metrics.jsonl").read_text().splitlines()]
    assert strip(tmp_path / "a") == strip(tmp_path / "b")
    wa, wb = load_file(str(tmp_path / "a/generator.safetensors")), load_file(str(tmp_path / "b/generator.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert run_tiny(tiny_yaml, tmp_path / "c", "--seed", "4") == 0
    wc = load_file(str(tmp_path / "c/generator.safetensors"))
    assert not torch.equal(wa["W_out"], wc["W_out"])


@pytest.mark.parametrize("args, message", [
    (["--set", "adversarial.rolout_num=2"], "did you mean 'adversarial.rollout_num'"),
    (["--set", "discriminator.filter_sizes=[1,9]", "--set", "discriminator.num_filters=[2,2]"],
     "filter_sizes [9] are longer than the sequences (generator.seq_len=8)"),
    (["--oracle", "/nonexistent/oracle.npz"], "oracle.path=/nonexistent/oracle.npz: no such file"),
    (["--device", "cuda"] if not torch.cuda.is_available() else ["--set", "train.batch_size=0"],
     "no CUDA GPU" if not torch.cuda.is_available() else "must be > 0"),
    (["--device", "cpu", "--set", "train.precision=tf32"], "train.precision=tf32 needs a CUDA device"),
    (["--set", "train.precision=fp16"], "train.precision: got 'fp16', expected one of 'fp32', 'tf32', 'bf16'"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tiny_yaml, tmp_path, capsys, args, message):
    out = tmp_path / "run"
    assert run_tiny(tiny_yaml, out, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqgan: error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_bad_oracle_file_is_a_clean_error(tiny_yaml, tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    assert run_tiny(tiny_yaml, tmp_path / "run", "--oracle", str(bad)) == 2
    assert "not a readable .npz" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_refuses_a_non_empty_out_dir(tiny_yaml, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("x")
    assert run_tiny(tiny_yaml, tmp_path / "run") == 2
    assert "not empty" in capsys.readouterr().err


def test_config_command_lists_every_key(capsys):
    assert main(["config", "--list"]) == 0
    text = capsys.readouterr().out
    assert "adversarial.rollout_num = 16" in text and "Monte Carlo rollouts" in text
    assert main(["config", "--preset", "paper", "--set", "seed=5"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["seed"] == 5


def test_console_script_and_module_help():
    for cmd in (["seqgan", "--help"], [sys.executable, "-m", "seqgan", "train", "--help"]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "usage:" in r.stdout
    r = subprocess.run([sys.executable, "-m", "seqgan", "train", "--set", "nope=1"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "unknown config key 'nope'" in r.stderr


def test_out_and_resume_misuse(tiny_yaml, tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert run_tiny(tiny_yaml, f) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path), "--out", str(tmp_path / "x")]) == 2
    assert "not both" in capsys.readouterr().err


def test_help_and_config_do_not_import_torch():
    """`seqgan --help` and `seqgan config` answer at once: torch is imported by the commands that train."""
    code = ("import sys\nfrom seqgan.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['config', '--preset', 'laptop']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == "False", r.stderr


def test_no_progress_bar_for_a_phase_with_nothing_to_do(tiny_yaml, tmp_path, capsys):
    """With adversarial.iterations=0 no empty `adversarial: 0it` bar follows the run's end."""
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "--set", "adversarial.iterations=0"]) == 0
    err = capsys.readouterr().err
    bars = re.split(r"[\r\n]", err)
    assert any(b.startswith("D pre-train: 100%") for b in bars)  # the phases that ran show their bars (not -q)
    assert not any(b.lower().startswith("adversarial") for b in bars), err[-2000:]
    assert not re.search(r"(?<![\d.])0it\b", err), err[-2000:]
