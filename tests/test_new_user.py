"""What a new user sees: the closing lines of `seqgan train`, the notices, the samples printed
during training and by `seqgan generate`, and the `.lock` a run leaves behind."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import torch

from seqgan import logging as seqgan_logging
from seqgan import perf
from seqgan.cli import build_parser, main
from seqgan.data import EOS, PAD, SPECIALS, Tokenizer, Vocabulary
from seqgan.files import RunDirBusy, RunLock
from seqgan.logging import MetricLogger


@pytest.fixture
def finished_run(tiny_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> tuple[Path, str, str]:
    """A tiny oracle run trained without -q from a relative --out; (run dir, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(perf, "_tuned", False)  # as in a fresh process: the allocator is tuned by this run
    assert main(["train", "--config", str(tiny_yaml), "--out", "run"]) == 0
    out, err = capsys.readouterr()
    return tmp_path / "run", out, err


def test_train_ends_naming_the_absolute_run_directory_and_the_next_commands(finished_run):
    run, out, _ = finished_run
    last = out.rstrip("\n").splitlines()[-4:]
    where = str(run.resolve())
    assert last[0] == f"seqgan: run saved in {where}"
    for command in (f"seqgan generate {where} -n 5", f"seqgan evaluate {where}", f"seqgan sweep {where} --mle"):
        assert sum(command in line for line in last[1:]) == 1, (command, last)


def test_a_finished_run_leaves_no_lock_file(finished_run):
    run, _, _ = finished_run
    assert not (run / RunLock.NAME).exists()
    with RunLock(run):  # and the directory can be locked again
        assert (run / RunLock.NAME).exists()


def test_the_allocator_tuning_is_no_notice_of_its_own(finished_run):
    _, out, err = finished_run
    assert "malloc tuned for this process" not in out + err
    first = next(line for line in out.splitlines() if line.startswith("seqgan: run directory"))
    assert ("glibc malloc tuned" in first) == perf.allocator_tuned()


def test_oracle_samples_are_not_printed_during_training(finished_run):
    run, out, _ = finished_run
    assert "sample:" not in out
    assert (run / "generator_samples.txt").stat().st_size > 0  # they are in the run directory


def test_a_quiet_run_prints_nothing_on_stdout(tiny_yaml, tmp_path, capsys):
    assert main(["train", "--config", str(tiny_yaml), "--out", str(tmp_path / "run"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "run" / RunLock.NAME).exists()


# ------------------------------------------------------------------ the lock

def test_a_held_lock_stays_until_its_holder_leaves_even_by_an_exception(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with RunLock(tmp_path):
            assert (tmp_path / RunLock.NAME).exists()
            with pytest.raises(RunDirBusy, match=r"is in use by process \d+"):
                with RunLock(tmp_path):
                    pass
            assert (tmp_path / RunLock.NAME).exists()  # a refused second holder removes nothing
            raise KeyboardInterrupt  # an interrupted run leaves its `with` the same way
    assert not (tmp_path / RunLock.NAME).exists()


def test_a_lock_file_deleted_under_a_waiting_process_is_not_held(tmp_path, monkeypatch):
    """A holder that finishes between another process's open and flock deletes the file: the
    newcomer must lock the new file, not the deleted one (or two runs could both hold a lock)."""
    real_is_current = RunLock._is_current
    calls = []

    def first_time_stale(path: Path, fd: int) -> bool:
        calls.append(fd)
        if len(calls) == 1:
            path.unlink()  # as if the old holder finished just now
        return real_is_current(path, fd)

    monkeypatch.setattr(RunLock, "_is_current", staticmethod(first_time_stale))
    with RunLock(tmp_path) as lock:
        assert len(calls) == 2 and (tmp_path / RunLock.NAME).exists()
        with pytest.raises(RunDirBusy):
            with RunLock(tmp_path):
                pass
    assert lock._fd is None


# ------------------------------------------------------------------ notices

def test_the_tensorboard_notice_is_printed_once_per_process_and_never_with_q(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed
    monkeypatch.setattr(seqgan_logging, "_tensorboard_notice_shown", False)
    for quiet in (True, False, False):
        with MetricLogger(tmp_path, quiet=quiet, tensorboard=True):
            pass
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("tensorboard is not installed") == 1


# ------------------------------------------------------------------ generate and the detokenizer

class _StubGenerator:
    """What `seqgan.load` returns, with fixed samples: an empty one (<eos> first) in the middle."""
    source = ""
    eos_token = EOS

    def __init__(self) -> None:
        self.vocab = Vocabulary(SPECIALS + ["a", "b"], Tokenizer())

    def sample(self, num: int, rng: torch.Generator, temperature: float = 1.0) -> torch.Tensor:
        rows = [[4, 5, EOS], [EOS, PAD, PAD], [5, EOS, PAD]]
        return torch.tensor((rows * num)[:num])


def test_generate_prints_an_empty_sample_as_a_visible_marker(monkeypatch, capsys):
    import seqgan.api
    monkeypatch.setattr(seqgan.api, "load", lambda *a, **k: _StubGenerator())
    assert main(["generate", "RUN", "-n", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == ["a b", "<empty>", "b"]
    assert "<empty>" in build_parser()._subparsers._group_actions[0].choices["generate"].format_help()


@pytest.mark.parametrize("text", ["wait -- no", "he said -- no -- fine", "a --- b", "well-known", "x --"])
def test_a_double_dash_is_kept(text):
    tok = Tokenizer("word")
    assert tok.detokenize(tok(text)) == text


# ------------------------------------------------------------------ evaluate names what it scored

def test_evaluate_names_the_generator_it_scored(finished_run, capsys):
    import json
    run, _, _ = finished_run
    assert main(["evaluate", str(run), "--mle", "--json", "-n", "16"]) == 0
    mle = json.loads(capsys.readouterr().out)
    assert (mle["generator"], mle["weights"]) == ("mle", "generator_mle.safetensors")
    assert main(["evaluate", str(run), "-n", "16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"{'generator':<14}final", f"{'weights':<14}generator.safetensors"]
    saved = sorted((run / "checkpoints").iterdir())[-1]
    assert main(["evaluate", str(run), "-n", "16", "--json", "--checkpoint", str(saved)]) == 0
    assert json.loads(capsys.readouterr().out)["generator"] == "checkpoint"


# ------------------------------------------------------------------ a preset's max_len on other text

def paragraphs(path: Path) -> Path:
    """200 lines: 44 of 10 word tokens, 155 of 40 and one of 90. 156 (78%) are longer than
    coco's max_len of 24; 199 of 200 (99.5%) have at most 40 tokens, the length to suggest."""
    lengths = [10] * 44 + [40] * 155 + [90]
    random.Random(0).shuffle(lengths)
    words = "we the people of these states in order to form a more perfect union".split()
    path.write_text("".join(" ".join(words[(i + j) % len(words)] for j in range(n)) + "\n"
                            for i, n in enumerate(lengths)), encoding="utf-8")
    return path


def test_the_coco_preset_on_paragraphs_is_refused_naming_the_share_and_the_fix(tmp_path, capsys):
    data, out = paragraphs(tmp_path / "speeches.txt"), tmp_path / "run"
    assert main(["train", "--preset", "coco", "--data", str(data), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("seqgan: error: "), err
    assert (f"data.train={data}: 78% of the lines (156 of 200) are longer than data.max_len=24 and would be "
            f"dropped (more than data.max_drop=0.5)") in err
    assert "set data.max_len (99% of the lines have at most 40 tokens; 0: the longest line)" in err
    assert err.endswith("or data.overlong=truncate")
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("settings, kept", [
    ({"max_len": 24}, None),                            # 78% dropped: more than the default 0.5, refused
    ({"max_len": 24, "max_drop": 0.78}, 44),            # exactly the share allowed
    ({"max_len": 24, "max_drop": 0.77}, None),
    ({"max_len": 39}, None),                            # 156 lines of more than 39 tokens
    ({"max_len": 40}, 199),                             # 1 line of 200 (0.5%) of more than 40
    ({"max_len": 24, "overlong": "truncate"}, 200),     # nothing dropped
    ({"max_len": 0}, 200),                              # the longest line: nothing dropped
])
def test_a_drop_of_more_than_data_max_drop_of_the_training_lines_is_refused(tmp_path, settings, kept):
    from seqgan.config import DataConfig
    from seqgan.data import DataError, load_dataset
    cfg = DataConfig(train=str(paragraphs(tmp_path / "p.txt")), **settings)
    if kept is None:
        with pytest.raises(DataError, match=r"% of the lines \(156 of 200\) are longer than data.max_len="):
            load_dataset(cfg)
    else:
        ds = load_dataset(cfg)
        assert ds.train is not None and ds.train.ids.shape[0] == kept


def test_data_max_drop_is_a_share(capsys):
    assert main(["config", "--set", "task=data", "--set", "data.train=a.txt", "--set", "data.max_drop=1.5"]) == 2
    assert "data.max_drop=1.5 must be in [0, 1]" in capsys.readouterr().err
