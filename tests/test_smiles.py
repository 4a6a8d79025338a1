"""Molecules as SMILES: the smiles tokenizer, gzip files, data.subsample (no RDKit needed)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
import torch

from conftest import SHARED
from seqgan import data as data_module
from seqgan.cli import main
from seqgan.config import ConfigError, DataConfig, load_config
from seqgan.data import DataError, Tokenizer, Vocabulary, load_dataset, read_lines

MOSES = SHARED / "data" / "moses"
SMILES = Tokenizer("smiles")


@pytest.mark.parametrize("text, tokens", [
    ("C[C@@H](Cl)c1ccccc1Br", ["C", "[C@@H]", "(", "Cl", ")", "c", "1", "c", "c", "c", "c", "c", "1", "Br"]),
    ("C%10CC%11CC1CC%10CC%11C1", ["C", "%10", "C", "C", "%11", "C", "C", "1", "C", "C", "%10", "C", "C", "%11",
                                  "C", "1"]),
    ("c1ccc2[nH]ccc2c1", ["c", "1", "c", "c", "c", "2", "[nH]", "c", "c", "c", "2", "c", "1"]),
    ("O=C([O-])CC[NH3+]", ["O", "=", "C", "(", "[O-]", ")", "C", "C", "[NH3+]"]),
    ("[Na+].[Cl-]", ["[Na+]", ".", "[Cl-]"]),
    ("BrCCB", ["Br", "C", "C", "B"]),  # Br is one token, a lone B is boron
    ("ClC(Cl)=C/Cl", ["Cl", "C", "(", "Cl", ")", "=", "C", "/", "Cl"]),
    ("N#Cc1ccsc1", ["N", "#", "C", "c", "1", "c", "c", "s", "c", "1"]),
    ("C=1CC1", ["C", "=", "1", "C", "C", "1"]),
    ("[13CH4]", ["[13CH4]"]),
    ("CCO ethanol", ["C", "C", "O"]),  # .smi: the name after the SMILES is not part of it
    ("  \t ", []),
])
def test_smiles_tokens(text, tokens):
    assert SMILES(text) == tokens
    assert SMILES(SMILES.detokenize(tokens)) == tokens
    assert SMILES.detokenize(tokens) == text.split()[0] if text.strip() else SMILES.detokenize(tokens) == ""


def test_smiles_tokenizer_keeps_every_character_and_case():
    """No character is lost (an odd one is a token of its own) and case is kept (c is aromatic)."""
    rng = random.Random(0)
    alphabet = "CcNnOoSsBrClFI[]()=#-+@%0123456789/\\.*Hl"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
        toks = SMILES(text)
        assert "".join(toks) == text and SMILES(SMILES.detokenize(toks)) == toks
    assert Tokenizer("smiles", lowercase=True)("CCc1ccccc1") == list("CCc1ccccc1")


def test_smiles_vocabulary_json_and_decoded_text():
    vocab, _ = Vocabulary.build([SMILES("C[C@@H](Cl)c1ccccc1Br")], SMILES)
    again = Vocabulary.from_json(vocab.to_json())
    assert again.tokenizer.kind == "smiles"
    ids = again.encode(SMILES("Clc1ccccc1[C@@H](C)Br"))
    assert again.decode_text(ids + [data_module.EOS]) == "Clc1ccccc1[C@@H](C)Br"


@pytest.mark.skipif(not (MOSES / "test.smi.gz").is_file(), reason="../shared/data/moses not present")
def test_smiles_round_trips_the_whole_moses_test_set():
    with gzip.open(MOSES / "test.smi.gz", "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) == 176074
    for line in lines:
        toks = SMILES(line)
        text = SMILES.detokenize(toks)
        assert text == line and SMILES(text) == toks, line


# ============================================================================ gzip files

TEXT = "CCO\n\nc1ccccc1Br\n  \nC[C@@H](Cl)N\nO=C=O"


def test_gz_reads_as_the_plain_file(tmp_path):
    plain = tmp_path / "m.smi"
    plain.write_text(TEXT, encoding="utf-8")
    packed = tmp_path / "m.smi.gz"
    packed.write_bytes(gzip.compress(TEXT.encode()))
    unnamed = tmp_path / "m_gzip_without_suffix"  # gzip is recognised by its magic bytes too
    unnamed.write_bytes(gzip.compress(TEXT.encode()))
    two = tmp_path / "two_members.gz"  # `cat a.gz b.gz` is one gzip file
    two.write_bytes(gzip.compress(TEXT[:20].encode()) + gzip.compress(TEXT[20:].encode()))
    for tok in (SMILES, Tokenizer("char"), Tokenizer("word")):
        a = read_lines(plain, tok)
        for p in (packed, unnamed, two):
            b = read_lines(p, tok)
            assert (b.lines, b.line_numbers, b.blank, b.total) == (a.lines, a.line_numbers, a.blank, a.total)
    assert a.line_numbers == [1, 3, 5, 6] and a.blank == 2


def test_bad_gz_files_are_one_line_errors_naming_the_file(tmp_path, monkeypatch):
    good = gzip.compress(("CCO\n" * 1000).encode())
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"data.train=.*cut.gz: not a valid gzip file \(.*\); check it with gzip -t"):
        read_lines(tmp_path / "cut.gz", SMILES)
    bad = bytearray(good)
    bad[-8] ^= 0xFF  # the CRC-32 of the data no longer matches
    (tmp_path / "crc.gz").write_bytes(bytes(bad))
    with pytest.raises(DataError, match=r"crc.gz: not a valid gzip file \(CRC check failed"):
        read_lines(tmp_path / "crc.gz", SMILES)
    (tmp_path / "plain.gz").write_text("CCO\n")
    with pytest.raises(DataError, match=r"data.valid=.*plain.gz: named .gz but not gzip data"):
        read_lines(tmp_path / "plain.gz", SMILES, "data.valid")
    # decompression stops at the memory budget (a small file can expand enormously)
    (tmp_path / "big.gz").write_bytes(gzip.compress(b"C" * 5000 + b"\n"))
    monkeypatch.setattr(data_module, "memory_budget", lambda: 4096)
    with pytest.raises(DataError, match=r"big.gz: decompresses to more than 0.0 GiB, the memory budget here"):
        read_lines(tmp_path / "big.gz", SMILES)


def test_a_corrupt_gz_training_file_exits_2_with_one_line(tmp_path, capsys):
    (tmp_path / "train.smi.gz").write_bytes(gzip.compress(b"CCO\nCCN\n" * 50)[:-12])
    code = main(["train", "--preset", "quick", "--data", str(tmp_path / "train.smi.gz"), "--tokenizer", "smiles",
                 "--out", str(tmp_path / "run"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "train.smi.gz: not a valid gzip file" in err[0]
    assert not (tmp_path / "run").exists()


# ============================================================================ data.subsample

def test_subsample_is_a_seeded_uniform_draw_in_file_order(tmp_path):
    lines = [f"C{'C' * (i % 7)}O{i}" for i in range(300)]
    text = "\n".join(ln if i % 10 else "   " for i, ln in enumerate(lines)) + "\n"  # every 10th line blank
    (tmp_path / "t.smi").write_text(text)
    filled = [i + 1 for i in range(300) if i % 10]  # 1-based numbers of the 270 non-blank lines
    f = read_lines(tmp_path / "t.smi", SMILES, subsample=50, seed=7)
    # the same draw, written out: torch.randperm over the non-blank lines, the first 50, sorted
    pick = sorted(torch.randperm(270, generator=torch.Generator().manual_seed(7))[:50].tolist())
    assert f.line_numbers == [filled[j] for j in pick] and f.total == 270 and len(f.lines) == 50
    assert all(SMILES.detokenize(t) == lines[n - 1] for t, n in zip(f.lines, f.line_numbers))
    assert read_lines(tmp_path / "t.smi", SMILES, subsample=50, seed=7).line_numbers == f.line_numbers
    assert read_lines(tmp_path / "t.smi", SMILES, subsample=50, seed=8).line_numbers != f.line_numbers
    every = read_lines(tmp_path / "t.smi", SMILES, subsample=270)
    assert every.line_numbers == filled and every.total == 270 and every.blank == 30


def test_subsample_applies_to_the_training_file_only(tmp_path):
    (tmp_path / "train.smi").write_text("".join(f"C{'C' * (i % 5)}N\n" for i in range(100)))
    (tmp_path / "test.smi").write_text("".join(f"C{'O' * (i % 3)}\n" for i in range(40)))
    ds = load_dataset(DataConfig(train=str(tmp_path / "train.smi"), test=str(tmp_path / "test.smi"),
                                 tokenizer="smiles", subsample=30, subsample_seed=2))
    assert ds.train is not None and ds.test is not None
    assert ds.train.ids.shape[0] == 30 and ds.test.ids.shape[0] == 40
    assert "a seeded sample of 30 of its 100 lines (data.subsample=30, data.subsample_seed=2)" in "\n".join(ds.report)


def test_subsample_keys_are_checked():
    with pytest.raises(ConfigError, match=r"data.subsample=-1 must be >= 0"):
        load_config("quick", ["task=data", "data.train=x.smi", "data.subsample=-1"])
    assert load_config("molecules").data.tokenizer == "smiles"


def test_smiles_run_generates_smiles(tmp_path, capsys):
    """A tiny run on SMILES: `generate` prints concatenated tokens (no spaces), `--ids` the ids."""
    rng = random.Random(0)
    parts = ["C", "c1ccccc1", "Cl", "Br", "[nH]", "O", "N", "(C)", "=O"]
    (tmp_path / "train.smi.gz").write_bytes(gzip.compress(
        "".join("".join(rng.choice(parts) for _ in range(rng.randint(2, 6))) + "\n" for _ in range(120)).encode()))
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_SMILES_YAML)
    run = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--data", str(tmp_path / "train.smi.gz"), "--out", str(run), "-q"]) == 0
    assert main(["generate", str(run), "-n", "20", "--seed", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    vocab = Vocabulary.load(run / "vocab.json")
    assert vocab.tokenizer.kind == "smiles" and {"Cl", "Br", "[nH]"} <= set(vocab.tokens)
    assert len(out) == 20 and all(" " not in s for s in out)
    assert main(["generate", str(run), "-n", "20", "--seed", "1", "--ids"]) == 0
    rows = [[int(x) for x in ln.split()] for ln in capsys.readouterr().out.splitlines()]
    assert [vocab.decode_text(r) or "<empty>" for r in rows] == out


TINY_SMILES_YAML = """\
seed: 1
device: cpu
task: data
data: {tokenizer: smiles}
generator: {emb_dim: 8, hidden_dim: 8}
discriminator: {emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}
pretrain: {generator_epochs: 2, discriminator_rounds: 1, discriminator_epochs: 1}
adversarial: {iterations: 1, discriminator_rounds: 1, discriminator_epochs: 1, rollout_num: 2}
train: {batch_size: 16, eval_every: 2, threads: 1, tensorboard: false}
eval: {bleu_samples: 20, chem_samples: 60}
"""


def test_without_rdkit_molecule_metrics_exit_2_with_the_install_line(tmp_path, capsys, monkeypatch):
    """`evaluate` and `sweep` of a SMILES run need RDKit: without it, one line saying how to get it."""
    import sys
    (tmp_path / "train.smi").write_text("".join(["CCO\n", "c1ccccc1\n", "CCN(C)C\n", "CC(=O)O\n"] * 20))
    (tmp_path / "test.smi").write_text("".join(["CCO\n", "CCN(C)C\n"] * 5))
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(TINY_SMILES_YAML)
    run = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--data", str(tmp_path / "train.smi"), "--test",
                 str(tmp_path / "test.smi"), "--out", str(run), "-q"]) == 0
    monkeypatch.setitem(sys.modules, "rdkit", None)  # import rdkit now raises ImportError
    for argv in (["evaluate", str(run)], ["sweep", str(run), "--temperatures", "1", "-q"],
                 ["evaluate", str(run), "--chem"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["seqgan: error: the molecule metrics need RDKit, which is not installed: "
                       "pip install 'seqgan[chem]'"], argv
    assert main(["evaluate", str(run), "--no-chem", "--json", "-n", "10"]) == 0  # the text metrics still work
    assert '"valid"' not in capsys.readouterr().out


def test_molecules_preset_reads_the_shared_moses_files():
    cfg = load_config("molecules")
    assert cfg.task == "data" and cfg.data.tokenizer == "smiles" and cfg.data.subsample > 0
    assert Path(__file__).resolve().parents[1].joinpath("src/seqgan/presets/molecules.yaml").read_text().count(
        "../shared/data/moses/train.smi.gz") >= 1
