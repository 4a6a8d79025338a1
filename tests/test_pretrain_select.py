"""pretrain.select: the MLE generator a run keeps. 'last' is the paper's; 'best_valid' keeps the
epoch with the lowest NLL on a selection set (data.valid, a held-out share of the training file,
or fresh oracle sequences), writes it beside the last one, and starts the later phases from it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqgan import checkpoint as ckpt
from seqgan.cli import main
from seqgan.config import load_config
from seqgan.data import load_dataset

from runs import metrics_without_timing, write_corpus, write_tiny_config

# over-trains within a few epochs: a high learning rate on 160 lines, so the best epoch is not the last
SELECT_YAML = """\
seed: 2
device: cpu
generator: {emb_dim: 16, hidden_dim: 32}
discriminator: {emb_dim: 8, filter_sizes: [1, 2], num_filters: [4, 4]}
pretrain: {generator_epochs: 8, generator_lr: 0.05, discriminator_rounds: 0}
adversarial: {iterations: 0}
train: {batch_size: 16, eval_every: 4, threads: 1, tensorboard: false, checkpoint_every: 1, keep_checkpoints: 50}
eval: {bleu_samples: 20}
"""

ORACLE = {"oracle": {"num_samples": 96, "test_samples": 64},
          "generator": {"emb_dim": 16, "hidden_dim": 32},
          "discriminator": {"filter_sizes": [1, 2], "num_filters": [4, 4]},
          "pretrain": {"generator_epochs": 10, "generator_lr": 0.05, "discriminator_rounds": 0,
                       "discriminator_epochs": None},
          "adversarial": {"iterations": 0, "discriminator_rounds": None, "discriminator_epochs": None,
                          "rollout_num": None},
          "train": {"batch_size": 16, "eval_every": 5, "eval_samples": 64, "threads": 1, "tensorboard": False}}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    write_corpus(d, {"train.txt": 160, "valid.txt": 40, "test.txt": 40}, max_words=6)
    (d / "select.yaml").write_text(SELECT_YAML)
    write_tiny_config(d / "oracle.yaml", **ORACLE)
    return d


def train(corpus: Path, out: Path, *sets: str, data: bool = True, yaml: str = "select.yaml") -> int:
    args = ["train", "--config", str(corpus / yaml), "--out", str(out), "-q"]
    if data:
        args += ["--data", str(corpus / "train.txt"), "--test", str(corpus / "test.txt")]
    return main(args + [a for s in sets for a in ("--set", s)])


def records(run: Path, key: str) -> dict[int, float]:
    return {r["step"]: r[key] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
            if r.get("phase") == "mle" and key in r}


def weights(run: Path, name: str) -> dict[str, torch.Tensor]:
    return load_file(str(run / name))


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("task", ["data", "oracle"])
def test_best_valid_keeps_the_epoch_of_lowest_held_out_nll_and_starts_from_it(task, corpus, tmp_path):
    data = task == "data"
    yaml = "select.yaml" if data else "oracle.yaml"
    valid = [f"data.valid={corpus / 'valid.txt'}"] if data else []
    best_run = tmp_path / "best"
    assert train(corpus, best_run, "pretrain.select=best_valid", *valid, data=data, yaml=yaml) == 0
    nll = records(best_run, "nll_select")
    epochs = load_config(str(corpus / yaml)).pretrain.generator_epochs
    assert sorted(nll) == list(range(epochs))  # scored after every epoch, not only at evaluations
    best = min(nll, key=lambda e: (nll[e], e))
    assert best < epochs - 1, "the config no longer over-trains: the test cannot tell best from last"
    summary = json.loads((best_run / "summary.json").read_text())
    assert summary["mle_select"]["epoch"] == best and summary["mle_select"]["nll"] == nll[best]
    # the selected weights are the generator after epoch `best`: a select=last run of best + 1 epochs
    short = tmp_path / "short"
    assert train(corpus, short, f"pretrain.generator_epochs={best + 1}", *valid, data=data, yaml=yaml) == 0
    assert same(weights(best_run, "generator_mle_best.safetensors"), weights(short, "generator_mle.safetensors"))
    # both MLE generators are kept: the last epoch's is generator_mle.safetensors
    last = tmp_path / "last"
    assert train(corpus, last, *valid, data=data, yaml=yaml) == 0
    assert same(weights(best_run, "generator_mle.safetensors"), weights(last, "generator_mle.safetensors"))
    assert not (last / "generator_mle_best.safetensors").exists() and "nll_select" not in \
        (last / "metrics.jsonl").read_text()
    # the later phases start from the selected generator (here none runs: the final one is it)
    assert same(weights(best_run, "generator.safetensors"), weights(best_run, "generator_mle_best.safetensors"))
    assert same(weights(last, "generator.safetensors"), weights(last, "generator_mle.safetensors"))
    sums = (best_run / "weights.sha256").read_text()
    assert "generator_mle_best.safetensors" in sums


def test_the_adversarial_phase_starts_from_the_selected_generator(corpus, tmp_path):
    # one g-step at learning rate 0: the adversarial phase leaves the generator where it started
    out = tmp_path / "run"
    assert train(corpus, out, "pretrain.select=best_valid", "adversarial.iterations=1",
                 "adversarial.generator_lr=1e-30", "pretrain.discriminator_rounds=1", "adversarial.rollout_num=2",
                 "adversarial.discriminator_rounds=1") == 0
    final, best = weights(out, "generator.safetensors"), weights(out, "generator_mle_best.safetensors")
    assert all(torch.allclose(final[k], best[k], atol=1e-6) for k in final)
    assert not same(final, weights(out, "generator_mle.safetensors"))


def test_a_held_out_share_of_the_training_file_is_never_trained_on(corpus, tmp_path):
    out = tmp_path / "run"
    assert train(corpus, out, "pretrain.select=best_valid", "pretrain.valid_share=0.25") == 0
    t = ckpt.latest_valid(out).tensors
    real, held = t["data.real"], t["data.select"]
    assert held.shape[0] == 40 and real.shape[0] == 120  # 25 % of 160 lines
    cfg = load_config(str(corpus / "select.yaml"), [f"data.train={corpus / 'train.txt'}", "task=data"])
    every = load_dataset(cfg.data).train.ids
    assert sorted(map(tuple, torch.cat([real, held]).tolist())) == sorted(map(tuple, every.tolist()))
    summary = json.loads((out / "summary.json").read_text())
    assert "40 lines, never trained on" in summary["mle_select"]["on"]


def test_best_valid_resumes_exactly_from_inside_the_mle_phase(corpus, tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "run"
    assert train(corpus, ref, "pretrain.select=best_valid") == 0
    shutil.copytree(ref, out)
    # back to the checkpoint after MLE epoch 4 (serial 0 is the untrained one): later epochs again
    for p in ckpt.list_checkpoints(out)[6:]:
        shutil.rmtree(p)
    for name in ("summary.json", "generator.safetensors", "generator_mle.safetensors",
                 "generator_mle_best.safetensors"):
        (out / name).unlink()
    state = ckpt.latest_valid(out).state["train_state"]
    assert state["phase"] == "mle" and 0 < state["step"] < 8 and state["mle_best"]
    assert main(["train", "--resume", str(out), "-q"]) == 0
    assert metrics_without_timing(out) == metrics_without_timing(ref)
    for name in ("generator.safetensors", "generator_mle.safetensors", "generator_mle_best.safetensors"):
        assert same(weights(out, name), weights(ref, name)), name


def test_evaluate_and_generate_read_the_best_valid_generator(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(corpus, out, "pretrain.select=best_valid", "adversarial.iterations=0") == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--mle-best", "--json", "-n", "10"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["generator"] == "mle_best" and table["weights"] == "generator_mle_best.safetensors"
    summary = json.loads((out / "summary.json").read_text())
    assert table["nll_test"] == pytest.approx(summary["evaluations"]["mle_best"]["nll_test"], rel=1e-6)
    assert main(["generate", str(out), "--mle-best", "-n", "2"]) == 0
    assert main(["evaluate", str(out), "--mle", "--mle-best"]) == 2
    last = tmp_path / "last"
    assert train(corpus, last) == 0
    capsys.readouterr()
    assert main(["evaluate", str(last), "--mle-best"]) == 2
    err = capsys.readouterr().err
    assert "pretrain.select=last" in err and "--set pretrain.select=best_valid" in err


def test_select_settings_are_checked(corpus, tmp_path, capsys):
    assert train(corpus, tmp_path / "a", "pretrain.valid_share=1.0") == 2
    assert "pretrain.valid_share=1.0 must be in (0, 1)" in capsys.readouterr().err
    assert train(corpus, tmp_path / "b", "pretrain.select=best_valid", "method=scheduled_sampling") == 2
    assert "method=scheduled_sampling does not have" in capsys.readouterr().err
    # the held-out share counts against the batch: 160 lines less 95 % leave no batch of 16
    assert train(corpus, tmp_path / "c", "pretrain.select=best_valid", "pretrain.valid_share=0.95") == 2
    assert "held out by pretrain.valid_share" in capsys.readouterr().err


def test_compare_and_sweep_take_the_kept_mle_generator_as_the_baseline(corpus, tmp_path, capsys):
    from seqgan.compare import read_run
    from seqgan.sweep import sweep_runs
    out = tmp_path / "run"
    assert train(corpus, out, "pretrain.select=best_valid") == 0
    summary = json.loads((out / "summary.json").read_text())
    best = summary["evaluations"]["mle_best"]
    pretrained = read_run(out, "pretrained")
    assert pretrained.values["nll_test"] == best["nll_test"] != records(out, "nll_test")[7]
    capsys.readouterr()
    assert main(["evaluate", str(out), "--mle-best", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    curve = next(c for c in sweep_runs([out], [1.0], mle=True, quiet=True) if c.stage == "mle")
    assert "best valid" in curve.label and curve.points[0]["nll_test"] == pytest.approx(table["nll_test"], rel=1e-9)
