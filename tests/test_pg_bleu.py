"""PG-BLEU (seqgan/methods/pg_bleu.py, rewards.BLEUReward): the reward equals nltk's sentence_bleu
(method1, and rows ending at <eos>); `pg_bleu.smoothing`: the unsmoothed reward (the default, as the
authors' code calls nltk's sentence_bleu) and method1, each equal to nltk's sentence_bleu on random
token rows, including rows with no match at some order, and the option reaches the run's reward; a
PG-BLEU run trains no discriminator and its MLE phase is the MLE run's, bit for bit. The whole file
skips without nltk (the `test` extra)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

import seqgan.methods.pg_bleu as pg_bleu_method
from seqgan.cli import main
from seqgan.metrics import bleu, sentence_bleus
from seqgan.methods.options.pg_bleu import PGBLEUConfig
from seqgan.rewards import BLEUReward
from runs import metrics_without_timing, train_cli, weights

nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")


def _nltk(refs: list[list[int]], hyp: list[int], order: int, smoothing: str) -> float:
    smooth = nltk_bleu.SmoothingFunction().method1 if smoothing == "method1" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns for every order without a match
        return float(nltk_bleu.sentence_bleu(refs, hyp, weights=(1 / order,) * order, smoothing_function=smooth))


@pytest.mark.parametrize("smoothing", ["none", "method1"])
@pytest.mark.parametrize("order", [2, 3, 4])
def test_bleu_reward_equals_nltk_on_random_rows(smoothing, order):
    g = torch.Generator().manual_seed(order)
    refs = torch.randint(0, 30, (8, 7), generator=g)
    hyps = torch.randint(0, 30, (300, 7), generator=g)
    hyps[0] = refs[3]  # a perfect match
    hyps[1] = torch.tensor([refs[0, 0].item(), 99, refs[1, 0].item(), 98, refs[2, 0].item(), 97, 96])  # unigrams only
    hyps[2] = 50  # no unigram in any reference
    ours = BLEUReward(refs, order, smoothing=smoothing)(hyps).tolist()
    ref_lists = refs.tolist()
    expected = [_nltk(ref_lists, h, order, smoothing) for h in hyps.tolist()]
    # the rows without a match at some order but with a unigram one: nltk's method0 scores ~1e-103, method1 more
    zero_some = [i for i, h in enumerate(hyps.tolist()) if 0 < expected[i] and
                 min(sum(1 for j in range(len(h) - n + 1) if any(h[j:j + n] == r[k:k + n] for r in ref_lists
                                                               for k in range(len(r) - n + 1)))
                     for n in range(1, order + 1)) == 0]
    assert len(zero_some) >= 5
    # the reward is float32 (nltk's ~1e-103 underflows to 0 there); before it, in float64, exact to nltk's float
    assert ours == [pytest.approx(torch.tensor(e, dtype=torch.float32).item(), rel=1e-6, abs=0) for e in expected]
    assert ours[0] == pytest.approx(1.0) and ours[2] == 0.0
    exact = sentence_bleus(hyps.tolist(), ref_lists, order, smoothing)
    assert exact == [pytest.approx(e, rel=1e-12, abs=0) for e in expected]
    assert all((exact[i] < 1e-30) == (smoothing == "none") for i in zero_some)


def test_evaluation_bleu_stays_method1():
    g = torch.Generator().manual_seed(0)
    refs = torch.randint(0, 12, (25, 7), generator=g).tolist()
    hyps = torch.randint(0, 12, (40, 7), generator=g).tolist()
    got = bleu(hyps, refs, (3,))[3]
    assert got == pytest.approx(sum(_nltk(refs, h, 3, "method1") for h in hyps) / len(hyps), rel=1e-12)


def test_pg_bleu_smoothing_defaults_to_the_authors_none_and_rejects_others():
    assert PGBLEUConfig().smoothing == "none"
    with pytest.raises(ValueError):
        PGBLEUConfig(smoothing="method2")
    with pytest.raises(ValueError, match="smoothing"):
        BLEUReward(torch.zeros(2, 3, dtype=torch.long), smoothing="method2")  # type: ignore[arg-type]


TINY = {"seed": 5,
        "oracle": {"seed": 2, "num_samples": 128},
        "generator": {"vocab_size": 30, "seq_len": 6},
        "discriminator": None,
        "pretrain": {"generator_epochs": 1, "discriminator_rounds": 1},
        "adversarial": {"iterations": 1, "rollout_num": 1},
        "train": {"eval_every": 1, "eval_samples": 64, "checkpoint_every": 1, "keep_checkpoints": 1, "threads": 1,
                  "tensorboard": False}}


@pytest.mark.parametrize("setting", [None, "method1"])
def test_pg_bleu_run_passes_its_smoothing_to_the_reward(setting, tiny_config, tmp_path, monkeypatch):
    seen: list[str] = []

    class Recording(BLEUReward):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self.smoothing)

    monkeypatch.setattr(pg_bleu_method, "BLEUReward", Recording)
    cfg: Path = tiny_config(**TINY)
    args = ["train", "--config", str(cfg), "--out", str(tmp_path / "run"), "-q", "--set", "method=pg_bleu"]
    if setting:
        args += ["--set", f"pg_bleu.smoothing={setting}"]
    assert main(args) == 0
    assert seen and set(seen) == {setting or "none"}


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

