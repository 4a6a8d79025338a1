"""bf16 autocast on a CPU with a bfloat16 fast path: detected from the CPU flags, refused
(exit 2, one line) where there is none, and close to fp32 where it runs."""

from __future__ import annotations

import json

import pytest
import torch

from seqgan import perf
from seqgan.cli import main


def test_fast_path_is_read_from_the_cpu_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert perf.cpu_bf16_fast_path(str(info)) == "avx512_bf16"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 amx_tile amx_bf16\n")
    assert perf.cpu_bf16_fast_path(str(info)) == "amx_bf16"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n")
    assert perf.cpu_bf16_fast_path(str(info)) is None
    assert perf.cpu_bf16_fast_path(str(tmp_path / "missing")) is None


def test_bf16_without_a_fast_path_exits_2_and_writes_nothing(tiny_yaml, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(perf, "cpu_bf16_fast_path", lambda cpuinfo="": None)
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--device", "cpu",
                 "--set", "train.precision=bf16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.precision=bf16 on a CPU needs a bfloat16 fast path" in err[0]
    assert "use --set train.precision=fp32" in err[0]
    assert not out.exists()


def test_tf32_on_cpu_exits_2(tiny_yaml, tmp_path, capsys):
    assert main(["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "r"), "-q", "--device", "cpu",
                 "--set", "train.precision=tf32"]) == 2
    assert "train.precision=tf32 needs a CUDA device" in capsys.readouterr().err


@pytest.mark.skipif(perf.cpu_bf16_fast_path() is None, reason="this CPU has no bfloat16 fast path")
def test_bf16_cpu_run_tracks_fp32_and_repeats_exactly(tiny_yaml, tmp_path):
    """A whole tiny run under CPU bf16 autocast: every NLL-oracle within 3 % of the fp32 run's,
    the weights stay fp32, and a second bf16 run repeats the first bit for bit."""
    curves = {}
    for name, p in (("fp32", "fp32"), ("bf16", "bf16"), ("bf16b", "bf16")):
        out = tmp_path / name
        assert main(["train", "--config", str(tiny_yaml), "--out", str(out), "-q", "--device", "cpu",
                     "--set", f"train.precision={p}"]) == 0
        curves[name] = json.loads((out / "summary.json").read_text())["nll_oracle"]
    for phase in ("mle", "adversarial"):
        for (s1, a), (s2, b) in zip(curves["fp32"][phase], curves["bf16"][phase]):
            assert s1 == s2 and abs(a - b) < 0.03 * a
    assert curves["bf16"] == curves["bf16b"]
    from safetensors.torch import load_file
    assert all(t.dtype == torch.float32 for t in load_file(str(tmp_path / "bf16" / "generator.safetensors")).values())
