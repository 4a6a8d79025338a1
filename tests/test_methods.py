"""The Table 1 methods: Scheduled Sampling (p = 1 is MLE exactly; its token mixing), PG-BLEU's
reward (nltk's sentence_bleu), `compare`'s statistics (scipy and Welch's formula), exact resume
of an SS and a PG-BLEU run, every method with every generator kind, and a tiny
`reproduce table1` end to end."""

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
from seqgan.config import GeneratorConfig
from seqgan.methods.scheduled_sampling import scheduled_inputs
from seqgan.models import build_generator
from seqgan.rewards import BLEUReward
from runs import metrics_without_timing, train_cli, wait_for_phase, weights


# ----------------------------------------------------------------------------- scheduled sampling

def test_scheduled_inputs_mix_true_and_sampled_tokens_by_hand():
    """A generator that always emits token 4: where keep is false the input is 4, else the true
    previous token; position 0 always reads the start token."""
    cfg = GeneratorConfig(vocab_size=7, emb_dim=3, hidden_dim=4, seq_len=5)
    gen = build_generator(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        gen.W_out.zero_()
        gen.b_out.zero_()
        gen.b_out[4] = 60.0
    tokens = torch.tensor([[1, 2, 3, 5, 6], [6, 5, 3, 2, 1]])
    keep = torch.tensor([[False, True, False, True, False], [True, False, False, True, True]])
    inputs = scheduled_inputs(gen, tokens, keep, torch.Generator().manual_seed(1))
    assert inputs.tolist() == [[0, 1, 4, 3, 4], [0, 4, 4, 3, 2]]
    assert torch.equal(scheduled_inputs(gen, tokens, torch.ones_like(keep)), gen.inputs(tokens))


def test_scheduled_sampling_with_p_1_is_mle_exactly(baseline_yaml, tmp_path):
    assert train_cli(baseline_yaml, tmp_path / "mle", "method=mle") == 0
    assert train_cli(baseline_yaml, tmp_path / "ss", "method=scheduled_sampling", "scheduled_sampling.decay=0") == 0
    a, b = metrics_without_timing(tmp_path / "mle"), metrics_without_timing(tmp_path / "ss")
    assert [r["phase"] for r in b] == ["init"] + ["scheduled_sampling"] * 4
    for r, s in zip(a, b):
        s = {k: v for k, v in s.items() if k not in ("phase", "ss_p")}
        assert {k: v for k, v in r.items() if k != "phase"} == s
    wa, wb = weights(tmp_path / "mle"), weights(tmp_path / "ss")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_scheduled_sampling_lowers_p_and_departs_from_mle(baseline_yaml, tmp_path):
    assert train_cli(baseline_yaml, tmp_path / "ss", "method=scheduled_sampling") == 0
    recs = [r for r in metrics_without_timing(tmp_path / "ss") if r["phase"] == "scheduled_sampling"]
    assert [r["ss_p"] for r in recs] == pytest.approx([1.0, 0.9, 0.8, 0.7])
    assert train_cli(baseline_yaml, tmp_path / "mle", "method=mle") == 0
    mle = [r for r in metrics_without_timing(tmp_path / "mle") if r["phase"] == "mle"]
    assert recs[0]["g_loss"] == mle[0]["g_loss"]  # epoch 0 has p = 1
    assert recs[1]["g_loss"] != mle[1]["g_loss"]  # sampled inputs change the loss from epoch 1 on


# ----------------------------------------------------------------------------- PG-BLEU

def test_bleu_reward_equals_nltk_sentence_bleu():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    g = torch.Generator().manual_seed(0)
    refs = torch.randint(0, 6, (40, 8), generator=g)
    hyps = torch.randint(0, 6, (30, 8), generator=g)
    hyps[0] = refs[3]  # a perfect match
    ours = BLEUReward(refs, 3)(hyps)
    smooth = nltk_bleu.SmoothingFunction().method1
    ref_lists = refs.tolist()
    for h, v in zip(hyps.tolist(), ours.tolist()):
        expected = nltk_bleu.sentence_bleu(ref_lists, h, weights=(1 / 3, 1 / 3, 1 / 3), smoothing_function=smooth)
        assert v == pytest.approx(expected, abs=1e-6)
    assert ours[0] == pytest.approx(1.0)
    # variable length: a row ends at its <eos>, which is not a token of the sentence
    eos = 9
    r = torch.tensor([[1, 2, 3, eos, 0, 0], [2, 3, 4, 5, eos, 0]])
    h = torch.tensor([[1, 2, 3, eos, 0, 0], [2, 3, eos, 0, 0, 0]])
    got = BLEUReward(r, 3, eos)(h).tolist()
    exp = [nltk_bleu.sentence_bleu([[1, 2, 3], [2, 3, 4, 5]], s, weights=(1 / 3,) * 3, smoothing_function=smooth)
           for s in ([1, 2, 3], [2, 3])]
    assert got == pytest.approx(exp, abs=1e-6)


def test_pg_bleu_run_trains_no_discriminator_and_uses_n_1(baseline_yaml, tmp_path):
    out = tmp_path / "pgb"
    assert train_cli(baseline_yaml, out, "method=pg_bleu") == 0
    recs = metrics_without_timing(out)
    assert [r["phase"] for r in recs] == ["init"] + ["mle"] * 4 + ["adversarial"] * 6
    assert not any("d_loss" in r for r in recs)
    assert not (out / "discriminator.safetensors").exists()
    assert all(0 <= r["reward_mean"] <= 1 for r in recs if r["phase"] == "adversarial")
    # its MLE phase is the MLE run's, bit for bit
    assert train_cli(baseline_yaml, tmp_path / "mle", "method=mle") == 0
    wa, wb = weights(out, "generator_mle.safetensors"), weights(tmp_path / "mle", "generator_mle.safetensors")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


# ----------------------------------------------------------------------------- exact resume

@pytest.mark.parametrize("method", ["scheduled_sampling", "pg_bleu"])
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
