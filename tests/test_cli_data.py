"""`seqgan train --data`, `generate` and `evaluate` on your sequences, end to end: files,
formats, resume, and every bad input exiting 2 with nothing written."""

from __future__ import annotations

import json
import random
import re
import signal
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from runs import metrics_without_timing, wait_for_phase
from seqgan import evaluate_run
from seqgan.cli import main
from seqgan.data import BOS, EMPTY_SAMPLE, EOS

# threads: 1 makes the subprocess runs compute exactly as the in-process ones (the thread
# count changes how reductions are split, hence the last bits of the results)
DATA_YAML = """\
seed: 5
device: cpu
generator: {emb_dim: 8, hidden_dim: 8}
discriminator: {emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}
pretrain: {generator_epochs: 3, discriminator_rounds: 2, discriminator_epochs: 1}
adversarial: {iterations: 3, discriminator_rounds: 1, discriminator_epochs: 1, rollout_num: 2}
train: {batch_size: 16, eval_every: 2, checkpoint_every: 1, threads: 1}
eval: {bleu_samples: 50}
"""

WORDS = "a man dog cat rides sits on the bench street red small . ,".split()


def words_of(text: str) -> list[str]:
    """The word tokens of a generated line (its punctuation is attached the way text writes it)."""
    from seqgan.data import Tokenizer
    return [w for w in Tokenizer()(text.replace("<unk>", " ")) if w]


def sentences(rng: random.Random, n: int) -> str:
    return "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))).capitalize() + "\n" for _ in range(n))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    (d / "train.txt").write_text(sentences(rng, 160), encoding="utf-8")
    (d / "test.txt").write_text(sentences(rng, 40), encoding="utf-8")
    (d / "cfg.yaml").write_text(DATA_YAML)
    return {"train": d / "train.txt", "test": d / "test.txt", "cfg": d / "cfg.yaml"}


def train_args(corpus: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["train", "--config", str(corpus["cfg"]), "--data", str(corpus["train"]), "--test", str(corpus["test"]),
            "--out", str(out), "-q", *extra]


@pytest.fixture(scope="module")
def data_run(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "words"
    assert main(train_args(corpus, out)) == 0
    return out


def test_data_run_directory(data_run, capsys):
    names = {p.name for p in data_run.iterdir()}
    assert {"config.yaml", "vocab.json", "metrics.jsonl", "experiment-log.txt", "generator.safetensors",
            "generator_mle.safetensors",
            "discriminator.safetensors", "generator_samples.txt", "summary.json"} <= names
    assert "real_data.txt" not in names
    cfg = yaml.safe_load((data_run / "config.yaml").read_text())
    vocab = json.loads((data_run / "vocab.json").read_text())
    sizes = json.loads((data_run / "sizes.json").read_text())
    assert cfg["task"] == "data" and sizes["vocab_size"] == len(vocab["tokens"])
    assert sizes["eos_token"] == EOS and sizes["start_token"] == BOS and sizes["seq_len"] == 10
    assert cfg["data"]["max_len"] == 0 and "eos_token" not in cfg["generator"]  # the config is what was asked
    assert set(vocab["tokens"][4:]) == set(WORDS)  # lower-cased, punctuation split off
    recs = [json.loads(ln) for ln in (data_run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in recs if "nll_test" in r]
    assert [(r["phase"], r["step"]) for r in evals] == [
        ("init", 0),
        ("mle", 0),
        ("mle", 2),
        ("adversarial", 0),
        ("adversarial", 2),
    ]
    for r in evals:
        assert r["nll_test"] > 0 and all(0 <= r[f"{m}{n}"] <= 1 for m in ("bleu", "self_bleu") for n in (2, 3, 4, 5))
        assert r["bleu2"] >= r["bleu3"] >= r["bleu4"] >= r["bleu5"]
    log = (data_run / "experiment-log.txt").read_text().splitlines()
    assert log[0] == "pre-training..." and all(re.fullmatch(r"epoch:\t\d+\tnll:\t[0-9.]+", ln) for ln in log[1:3])
    samples = (data_run / "generator_samples.txt").read_text(encoding="utf-8").splitlines()
    assert len(samples) == 1000 and all(w in WORDS for s in samples for w in words_of(s))
    summary = json.loads((data_run / "summary.json").read_text())
    assert summary["nll_test"]["adversarial"][-1][1] == evals[-1]["nll_test"]
    final = summary["evaluations"]["final"]  # every metric of the last evaluation, BLEU and Self-BLEU too
    assert all(final[f"{m}{n}"] == evals[-1][f"{m}{n}"] for m in ("bleu", "self_bleu") for n in (2, 3, 4, 5))

    assert main(["generate", str(data_run), "-n", "4", "--seed", "3"]) == 0
    text = capsys.readouterr().out.splitlines()  # an empty sample (<eos> first) prints as <empty>, not ""
    assert len(text) == 4 and "" not in text
    assert all(w in WORDS for s in text if s != EMPTY_SAMPLE for w in words_of(s))
    assert main(["generate", str(data_run), "-n", "4", "--seed", "3", "--ids"]) == 0
    ids = [list(map(int, ln.split())) for ln in capsys.readouterr().out.splitlines()]
    assert all(r[-1] == EOS or len(r) == 10 for r in ids) and all(EOS not in r[:-1] for r in ids)


def test_evaluate(data_run, corpus, capsys):
    assert main(["evaluate", str(data_run), "-n", "60", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["samples"] == 60 and table["test"] == str(corpus["test"])
    assert set(table) >= {"nll_test", "bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu5", "mean_len"}
    assert table == evaluate_run(data_run, num_samples=60)  # the same seed, the same numbers
    # the final NLL-test is the one logged at the last evaluation (the same weights, no sampling)
    last = [json.loads(ln) for ln in (data_run / "metrics.jsonl").read_text().splitlines()][-1]
    assert abs(table["nll_test"] - last["nll_test"]) < 1e-6
    assert main(["evaluate", str(data_run), "-n", "60"]) == 0
    assert re.search(r"^bleu2\s+0\.\d{4}$", capsys.readouterr().out, re.M)
    # the MLE baseline of the same run: its NLL-test is the one logged at the last MLE epoch
    mle = evaluate_run(data_run, num_samples=60, mle=True)
    last_mle = [r for r in map(json.loads, (data_run / "metrics.jsonl").read_text().splitlines())
                if r["phase"] == "mle"][-1]
    assert abs(mle["nll_test"] - last_mle["nll_test"]) < 1e-6 and mle["nll_test"] != table["nll_test"]
    assert main(["evaluate", str(data_run), "--test", str(data_run / "missing.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_evaluate_at_a_temperature_is_the_sweep_s_point_and_generate_s_samples(data_run, capsys):
    """`evaluate --temperature T`: BLEU, Self-BLEU and NLL-test of the generator sampled at T, as
    `sweep` computes them at T, over the samples `generate --temperature T` prints with that seed."""
    from seqgan.sweep import sweep_runs
    assert main(["evaluate", str(data_run), "-n", "60", "--temperature", "0.5", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    (point,), = [c.points for c in sweep_runs([data_run], [0.5], samples=60, seed=0, quiet=True)]
    assert table["temperature"] == 0.5
    for k in ("bleu4", "bleu5", "self_bleu4", "self_bleu5", "nll_test"):
        assert table[k] == point[k], k
    assert table["nll_test"] != evaluate_run(data_run, num_samples=60)["nll_test"]
    assert main(["generate", str(data_run), "-n", "60", "--seed", "0", "--temperature", "0.5", "--ids"]) == 0
    rows = [[int(x) for x in ln.split()] for ln in capsys.readouterr().out.splitlines()]
    assert table["mean_len"] == pytest.approx(sum(r.index(EOS) if EOS in r else len(r) for r in rows) / 60)
    assert main(["evaluate", str(data_run), "--temperature", "0"]) == 2
    assert "a temperature must be a finite number > 0" in capsys.readouterr().err


def test_evaluate_reports_the_draw_of_summary_json_and_compare(data_run, capsys):
    """With its defaults (the run's eval.bleu_samples, seed 0, the run's device) `evaluate` draws
    the samples the run's own evaluations drew: the same BLEU as summary.json and `compare` for
    the final generator, and as the last MLE evaluation for --mle."""
    from seqgan.compare import read_run
    final = json.loads((data_run / "summary.json").read_text())["evaluations"]["final"]
    assert main(["evaluate", str(data_run), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["samples"] == 50 and table["seed"] == 0  # the draw, labelled
    scores = [f"{m}{n}" for m in ("bleu", "self_bleu") for n in (2, 3, 4, 5)] + ["mean_len"]
    assert {k: table[k] for k in scores} == {k: final[k] for k in scores}
    assert {k: read_run(data_run).values[k] for k in scores} == {k: final[k] for k in scores}
    last_mle = [r for r in map(json.loads, (data_run / "metrics.jsonl").read_text().splitlines())
                if r["phase"] == "mle" and "bleu2" in r][-1]
    mle = evaluate_run(data_run, mle=True)
    assert {k: mle[k] for k in scores} == {k: last_mle[k] for k in scores}
    assert {k: read_run(data_run, "pretrained").values[k] for k in scores} == {k: mle[k] for k in scores}
    assert evaluate_run(data_run, seed=1)["bleu2"] != table["bleu2"]  # another seed is another draw


def test_char_tokens_decode_without_spaces(corpus, tmp_path, capsys):
    train = tmp_path / "poems.txt"
    rng = random.Random(1)
    chars = "春眠不觉晓处闻啼鸟，。"
    train.write_text("".join(" ".join(rng.choice(chars) for _ in range(6)) + "\n" for _ in range(40)), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--config", str(corpus["cfg"]), "--data", str(train), "--tokenizer", "char", "--out",
                 str(out), "-q", "--set", "adversarial.iterations=1", "--set", "pretrain.discriminator_rounds=1"]) == 0
    assert main(["generate", str(out), "-n", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and "" not in lines  # an empty sample prints as <empty>
    lines = [ln.replace("<unk>", "") for ln in lines if ln != EMPTY_SAMPLE]  # <unk> can be sampled (rarely)
    assert all(" " not in ln and set(ln) <= set(chars) for ln in lines)


# mle and discriminator are slow; the default suite keeps the adversarial case
@pytest.mark.parametrize("phase", [pytest.param("mle", marks=pytest.mark.slow),
                                   pytest.param("discriminator", marks=pytest.mark.slow), "adversarial"])
def test_killed_data_run_resumes_exactly(phase, corpus, data_run, tmp_path):
    import subprocess
    import sys
    out = tmp_path / "run"
    train = tmp_path / "train.txt"  # a copy, removed before resuming: the checkpoint holds the training data
    train.write_bytes(corpus["train"].read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "seqgan", *train_args(dict(corpus, train=train), out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_phase(proc, out, phase)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    train.unlink()
    # resuming with the original command's config and data flags is the same config (its sizes
    # are resolved from the run's vocabulary before comparing)
    again = ["--config", str(corpus["cfg"]), "--data", str(train), "--test", str(corpus["test"])]
    assert main(["train", "--resume", str(out), "-q", *(again if phase == "mle" else [])]) == 0
    ours, ref = metrics_without_timing(out), metrics_without_timing(data_run)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a == b, {k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    for name in ("generator.safetensors", "discriminator.safetensors"):
        a, b = load_file(str(out / name)), load_file(str(data_run / name))
        assert a.keys() == b.keys() and [k for k in a if not torch.equal(a[k], b[k])] == [], name


def write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("case, message", [
    ("missing", r"data.train=.*missing.txt: no such file"),
    ("empty", r"data.train=.*empty.txt: the file is empty"),
    ("blank", r"data.train=.*blank.txt: the file has only blank lines"),
    ("latin1", r"latin1.txt:2: invalid UTF-8 \(byte 0xe9 at column 4\); convert the file to UTF-8"),
    ("long", r"long.txt:3: 12 tokens, longer than data.max_len=10; raise data.max_len or set data.overlong"),
    ("max_vocab", r"data.max_vocab=3 leaves no room beside the 4 special tokens"),
    ("tiny", r"data.train=.*tiny.txt: 3 sequences make no full batch of train.batch_size=16"),
    ("preset", r"task=data needs a training file: give --data FILE"),
    ("test_missing", r"data.test=.*nope.txt: no such file"),
    ("test_only", r"data.test=.*test.txt is set but task=oracle; give the training file with --data FILE"),
    ("tokenizer_only", r"--tokenizer char applies to your data: give the training file with --data FILE"),
])
def test_bad_data_exits_2_and_writes_nothing(case, message, corpus, tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--config", str(corpus["cfg"]), "--out", str(out), "-q"]
    files = {
        "missing": tmp_path / "missing.txt",
        "empty": write(tmp_path / "empty.txt", b""),
        "blank": write(tmp_path / "blank.txt", b"\n   \n\n"),
        "latin1": write(tmp_path / "latin1.txt", "ok\ncaf\xe9\n".encode("latin-1")),
        "long": write(tmp_path / "long.txt", b"a b\nc d\n" + b"w " * 12 + b"\n"),
        "tiny": write(tmp_path / "tiny.txt", b"a b\nc\nd e\n"),
    }
    if case in files:
        args = base + ["--data", str(files[case])] + (["--set", "data.max_len=10", "--set", "data.overlong=error"]
                                                       if case == "long" else [])
    elif case == "max_vocab":
        args = base + ["--data", str(corpus["train"]), "--set", "data.max_vocab=3"]
    elif case == "preset":
        args = ["train", "--preset", "coco", "--out", str(out), "-q"]
    elif case == "test_only":
        args = base + ["--test", str(corpus["test"])]
    elif case == "tokenizer_only":
        args = base + ["--tokenizer", "char"]
    else:
        args = base + ["--data", str(corpus["train"]), "--test", str(tmp_path / "nope.txt")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("seqgan: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_plot_a_data_run(data_run, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curves.png"
    assert main(["plot", str(data_run), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_resume_refuses_changed_data_settings(data_run, tmp_path, capsys):
    import shutil
    out = tmp_path / "run"
    shutil.copytree(data_run, out)
    assert main(["train", "--resume", str(out), "-q", "--set", "data.min_freq=2"]) == 2
    err = capsys.readouterr().err
    assert "config differs from the run's in data.min_freq (1 -> 2)" in err
    assert main(["train", "--resume", str(out), "-q", "--set", "data.max_len=20"]) == 2
    assert "data.max_len (0 -> 20)" in capsys.readouterr().err  # 0: the longest line, as the run was asked


def test_evaluate_and_generate_options(data_run, tmp_path, capsys):
    assert main(["evaluate", str(data_run), "--mle", "--checkpoint", str(data_run)]) == 2
    assert "either --checkpoint or --mle" in capsys.readouterr().err
    assert main(["generate", str(data_run), "--mle", "--checkpoint", str(data_run)]) == 2
    capsys.readouterr()
    one = evaluate_run(data_run, num_samples=1)  # one sample: BLEU, no Self-BLEU
    assert "bleu2" in one and "self_bleu2" not in one
    assert main(["evaluate", str(data_run), "-n", "0"]) == 2


def test_a_run_without_held_out_data(corpus, tmp_path):
    """No --test or --valid: training, generation and the plot (discriminator and reward
    panels) still work; only the held-out metrics are missing."""
    out = tmp_path / "run"
    assert main(["train", "--config", str(corpus["cfg"]), "--data", str(corpus["train"]), "--out", str(out), "-q",
                 "--set", "adversarial.iterations=1"]) == 0
    recs = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert not any("nll_test" in r or "bleu2" in r for r in recs) and any("self_bleu2" in r for r in recs)
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert Path(cfg["data"]["train"]).is_absolute()  # absolute paths: evaluate and resume from anywhere
    if pytest.importorskip("matplotlib"):
        assert main(["plot", str(out), "--out", str(tmp_path / "c.png")]) == 0


@pytest.mark.parametrize("preset, method, kept", [("news", "seqgan", True), ("leakgan-news", "leakgan", False)])
def test_the_news_presets_train_on_long_pre_tokenised_lines(tmp_path, preset, method, kept):
    """`news` and `leakgan-news` on a made-up corpus of the news files' shape (pre-tokenised lines of
    21-49 tokens, cased tokens kept as written), their schedules cut to one unit: the method, the
    tokens, the length and the metrics they report; `news` keeps its best held-out MLE epoch."""
    rng = random.Random(0)
    words = [f"w{i}" for i in range(40)] + ["Big", ",", "."]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(21, 49))) for _ in range(200)]
    (tmp_path / "train.txt").write_text("\n".join(lines[:160]) + "\n")
    (tmp_path / "test.txt").write_text("\n".join(lines[160:]) + "\n")
    out = tmp_path / preset
    short = ["pretrain.generator_epochs=2", "pretrain.discriminator_rounds=1", "adversarial.iterations=1",
             "eval.bleu_samples=20", "adversarial.discriminator_samples=64", "pretrain.discriminator_samples=64",
             "train.batch_size=16", "adversarial.batch_size=16", "discriminator.filter_sizes=[2, 3]",
             "discriminator.num_filters=[4, 4]", "adversarial.rollout_num=2", "leakgan.pretrain_rounds=1"]
    assert main(["train", "--preset", preset, "--data", str(tmp_path / "train.txt"), "--test",
                 str(tmp_path / "test.txt"), "--out", str(out), "-q", *[a for s in short for a in ("--set", s)]]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == method
    assert json.loads((out / "sizes.json").read_text())["seq_len"] == 50  # max_len 49 + <eos>
    assert "Big" in json.loads((out / "vocab.json").read_text())["tokens"]  # the file's tokens, not lower-cased
    final = summary["evaluations"]["final"]
    assert all(k in final for k in ("nll_test", "bleu2", "bleu5", "self_bleu2", "self_bleu5"))
    assert ("mle_best" in summary["evaluations"]) == kept
