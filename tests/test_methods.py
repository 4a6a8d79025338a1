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
from seqgan.rewards import BLEUReward
from runs import metrics_without_timing, train_cli, wait_for_phase, weights



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
