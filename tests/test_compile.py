"""`train.compile`: torch.compile of the per-chunk softmax work of sampling and scoring gives
the eager results (up to float rounding), falls back to eager when compilation fails, and a
whole run accepts it. Off by default, so default runs stay bit-identical."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch

import seqgan.policies.sampler as sampler
from seqgan.config import GeneratorConfig, Sizes
from seqgan.data import BOS, EOS
from seqgan.policies import Policy
from seqgan.models import build_generator

from test_cli import run_tiny


@pytest.fixture(scope="module")
def compiler_works() -> None:
    """Skip where torch.compile cannot build CPU kernels (no C++ compiler or Python headers):
    there `train.compile` falls back to eager, which the fallback test covers."""
    if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        pytest.skip("torch.compile on CPU needs a C++ compiler")
    try:
        torch.compile(lambda t: t * 2 + 1)(torch.ones(3))
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"torch.compile does not work here: {type(e).__name__}")


def make_gen(eos: bool, seed: int = 0) -> Policy:
    cfg = GeneratorConfig(vocab_size=300, emb_dim=8, hidden_dim=16, seq_len=12, init_std=0.5)
    return build_generator(cfg, torch.Generator().manual_seed(seed), Sizes(300, 12, BOS, EOS) if eos else None)


@pytest.mark.parametrize("eos", [False, True], ids=["fixed-length", "until-eos"])
def test_compiled_sampling_and_scoring_equal_eager(eos, compiler_works):
    eager, comp = make_gen(eos), make_gen(eos)
    comp.set_compile("default")
    assert comp._draw is not sampler.logits_draw  # the compiled path is really taken
    # 1,300 rows: two full ROW_CHUNKs and a partial one, so dynamic shapes are exercised
    a = eager.sample(1300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback to eager
        b = comp.sample(1300, seed=3)
        nll_b = comp.token_nll(a)
    # one uniform per draw, same stream: a draw can differ only where float rounding moves a
    # cumulative sum across u, so (almost) every row is identical
    same_rows = (a == b).all(1).float().mean().item()
    assert same_rows > 0.99, same_rows
    torch.testing.assert_close(nll_b, eager.token_nll(a), rtol=1e-5, atol=1e-5)
    assert comp.nll(a) == pytest.approx(eager.nll(a), rel=1e-6)


def test_a_failed_compilation_falls_back_to_eager_with_one_warning(monkeypatch):
    from torch._inductor.exc import InvalidCxxCompiler

    def broken_compile(fn, **kwargs):
        def run(*args):
            raise InvalidCxxCompiler("g++")
        return run
    monkeypatch.setattr(torch, "compile", broken_compile)
    eager, comp = make_gen(True), make_gen(True)
    comp.set_compile("default")
    with pytest.warns(RuntimeWarning, match="torch.compile of logits_draw failed .InvalidCxxCompiler: "):
        b = comp.sample(700, seed=1)
    with pytest.warns(RuntimeWarning, match="torch.compile of logits_nll failed"):
        nll = comp.token_nll(b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # each warned once, then plain eager
        b2 = comp.sample(700, seed=1)
        nll2 = comp.token_nll(b)
    assert torch.equal(nll2, nll)
    assert torch.equal(b, eager.sample(700, seed=1)) and torch.equal(b2, b)  # eager is the exact path
    assert torch.equal(nll, eager.token_nll(b))


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory"), ValueError("a real bug")],
                         ids=["out-of-memory", "bug"])
def test_errors_of_the_computation_are_raised_not_hidden_by_the_fallback(monkeypatch, error):
    def failing_compile(fn, **kwargs):
        def run(*args):
            raise error
        return run
    monkeypatch.setattr(torch, "compile", failing_compile)
    comp = make_gen(False)
    comp.set_compile("default")
    with pytest.raises(type(error)):
        comp.sample(10, seed=1)
    assert not comp._draw.failed  # no silent permanent fallback to eager


def test_set_compile_rejects_unknown_modes_and_none_restores_eager():
    g = make_gen(False)
    with pytest.raises(ValueError, match="expected one of"):
        g.set_compile("fast")
    g.set_compile("default")
    g.set_compile("none")
    assert g._draw is sampler.logits_draw and g._nll is sampler.logits_nll


@pytest.mark.slow  # the default suite keeps compiled = eager: test_compiled_sampling_and_scoring_equal_eager
def test_a_run_with_train_compile(tiny_yaml, tmp_path, compiler_works):
    assert run_tiny(tiny_yaml, tmp_path / "eager") == 0
    assert run_tiny(tiny_yaml, tmp_path / "compiled", "--set", "train.compile=default") == 0
    read = lambda p: [json.loads(ln) for ln in (p / "metrics.jsonl").read_text().splitlines()]
    eager, comp = read(tmp_path / "eager"), read(tmp_path / "compiled")
    assert [(r["phase"], r["step"]) for r in comp] == [(r["phase"], r["step"]) for r in eager]
    # the same run up to float rounding: NLL-oracle within 2 % at every evaluation
    for r, s in zip(eager, comp):
        if "nll_oracle" in r:
            assert s["nll_oracle"] == pytest.approx(r["nll_oracle"], rel=0.02)
    assert "compile: default" in (tmp_path / "compiled/config.yaml").read_text()
