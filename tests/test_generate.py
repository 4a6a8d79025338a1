"""`seqgan generate` and `seqgan.load(run).sample`: the same samples for the same seed, within the
run's vocabulary and length, written to --out, and drawn from the newest checkpoint (saying so)
when the run has not finished."""

from __future__ import annotations

import torch

import seqgan
from seqgan.cli import main
from runs import train_cli


def test_generate_and_load(reference_run, tmp_path, capsys):
    assert main(["generate", str(reference_run), "-n", "7", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main(["generate", str(reference_run), "-n", "7", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    rows = [list(map(int, ln.split())) for ln in first.splitlines()]
    assert len(rows) == 7 and all(len(r) == 10 and all(0 <= t < 300 for t in r) for r in rows)
    gen = seqgan.load(reference_run)
    assert torch.equal(gen.sample(7, seed=3), torch.tensor(rows))
    assert gen.config.generator.vocab_size == 300 and gen.vocab is None
    assert main(["generate", str(reference_run), "-n", "3", "--out", str(tmp_path / "s.txt")]) == 0
    assert len((tmp_path / "s.txt").read_text().splitlines()) == 3
    assert main(["generate", str(tmp_path), "-n", "3"]) == 2
    assert "not a seqgan run directory" in capsys.readouterr().err


def test_generate_says_when_it_samples_a_checkpoint(tiny_yaml, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cli(tiny_yaml, out) == 0
    capsys.readouterr()
    assert main(["generate", str(out), "-n", "2", "--ids"]) == 0
    assert "has not finished" not in capsys.readouterr().err
    (out / "generator.safetensors").unlink()  # as if the run had been stopped before its end
    (out / "summary.json").unlink()
    assert main(["generate", str(out), "-n", "2", "--ids"]) == 0
    assert f"{out} has not finished; sampling its checkpoint" in capsys.readouterr().err

