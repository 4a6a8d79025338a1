"""Reading your sequences: tokenisers, the vocabulary, file errors, length limits."""

from __future__ import annotations

import json
import random

import pytest
import torch

from seqgan.config import DataConfig
from seqgan.data import (BOS, EOS, PAD, SPECIALS, UNK, DataError, Tokenizer, Vocabulary, encode_lines,
                         load_dataset, read_lines)


def random_text(rng: random.Random, kind: str) -> str:
    alphabet = {"word": "abcXYZ é.,;!?'-0", "char": "春眠不觉晓，。处闻啼鸟ab", "space": "55 60 62 64 67 R_4"}[kind]
    return "".join(rng.choice(alphabet + "  \t") for _ in range(rng.randrange(0, 40)))


@pytest.mark.parametrize("kind", ["word", "char", "space"])
def test_tokenizer_round_trips(kind):
    rng = random.Random(0)
    for split in (True, False):
        tok = Tokenizer(kind, lowercase=True, split_punctuation=split)
        for _ in range(300):
            tokens = tok(random_text(rng, kind))
            assert tok(tok.detokenize(tokens)) == tokens
            assert all(t and not any(ch.isspace() for ch in t) for t in tokens)


def test_detokenized_words_read_as_text():
    """Generated word tokens read as text: no space before closing punctuation or around a
    word-joining mark (a plain space join, 'nation \' s wheel .', would still round-trip)."""
    t = Tokenizer("word")
    assert t.detokenize(["the", "nation", "'", "s", "wheel", "."]) == "the nation's wheel."
    assert t.detokenize(["a", "man", "(", "riding", ")", "a", "bike", ",", "near", "a", "car", "!"]) == \
        "a man (riding) a bike, near a car!"
    assert Tokenizer("space").detokenize(["60", "62"]) == "60 62"


def test_tokenizer_kinds():
    assert Tokenizer("word")("A man riding a Wheel.  ") == ["a", "man", "riding", "a", "wheel", "."]
    assert Tokenizer("word", lowercase=False, split_punctuation=False)("A wheel.") == ["A", "wheel."]
    assert Tokenizer("char")("春 眠 不 觉 晓 ，") == ["春", "眠", "不", "觉", "晓", "，"]
    assert Tokenizer("char").detokenize(["春", "眠"]) == "春眠"
    assert Tokenizer("space")("60 62  64\t67") == ["60", "62", "64", "67"]


def test_vocabulary_ids_order_limits_and_json():
    lines = [["b", "a", "c"], ["a", "a", "d"], ["b", "<unk>"]]
    vocab, left = Vocabulary.build(lines, Tokenizer("space"))
    assert vocab.tokens == SPECIALS + ["a", "b", "c", "d"]  # by frequency, ties in code-point order
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3) and left == {"types": 0, "occurrences": 0}
    assert vocab.encode(["a", "zz", "<unk>"]) == [4, UNK, UNK]
    assert vocab.decode([4, 5, EOS, 6, PAD]) == ["a", "b"]  # stops at <eos>
    small, left = Vocabulary.build(lines, Tokenizer("space"), max_vocab=6)
    assert small.tokens == SPECIALS + ["a", "b"] and left == {"types": 2, "occurrences": 2}
    rare, left = Vocabulary.build(lines, Tokenizer("space"), min_freq=2)
    assert rare.tokens == SPECIALS + ["a", "b"] and left["types"] == 2
    again = Vocabulary.from_json(vocab.to_json())
    assert again.tokens == vocab.tokens and again.tokenizer == vocab.tokenizer
    assert json.loads(vocab.to_json())["specials"] == {"pad": 0, "bos": 1, "eos": 2, "unk": 3}
    with pytest.raises(DataError, match="not a seqgan vocabulary"):
        Vocabulary.from_json("{}", "x/vocab.json")


def test_read_lines_errors_name_the_file_and_line(tmp_path):
    tok = Tokenizer("word")
    with pytest.raises(DataError, match=r"data.train=.*nope.txt: no such file"):
        read_lines(tmp_path / "nope.txt", tok)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DataError, match="the file is empty"):
        read_lines(tmp_path / "empty.txt", tok)
    (tmp_path / "blank.txt").write_bytes(b"\n  \n\t\n")
    with pytest.raises(DataError, match="the file has only blank lines"):
        read_lines(tmp_path / "blank.txt", tok)
    (tmp_path / "latin1.txt").write_bytes("ok line\nanother\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.txt:3: invalid UTF-8 \(byte 0xe9 at column 4\)"):
        read_lines(tmp_path / "latin1.txt", tok)
    (tmp_path / "ok.txt").write_bytes("\ufeffa b\n\nc\r\n   \nd e f".encode("utf-8"))
    f = read_lines(tmp_path / "ok.txt", tok)
    assert f.lines == [["a", "b"], ["c"], ["d", "e", "f"]] and f.line_numbers == [1, 3, 5] and f.blank == 2


def test_encode_pads_after_eos_and_handles_long_lines(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a b\na b c d e\nc\n", encoding="utf-8")
    f = read_lines(p, Tokenizer("space"))
    vocab, _ = Vocabulary.build(f.lines, Tokenizer("space"))
    a, b, c = vocab.encode(["a", "b", "c"])
    e = encode_lines(f, vocab, 3, "truncate", "data.train")
    assert e.ids.tolist() == [[a, b, EOS, PAD], [a, b, c, EOS], [c, EOS, PAD, PAD]] and e.truncated == 1
    assert e.tokens[1] == ["a", "b", "c"] and e.references == e.tokens  # BLEU references: truncated alike
    e = encode_lines(f, vocab, 3, "drop", "data.train")
    assert e.ids.tolist() == [[a, b, EOS, PAD], [c, EOS, PAD, PAD]] and e.dropped == 1
    assert e.references[1] == ["a", "b", "c", "d", "e"] and len(e.references) == 3  # not dropped from the references
    with pytest.raises(DataError, match=r"t.txt:2: 5 tokens, longer than data.max_len=3"):
        encode_lines(f, vocab, 3, "error", "data.train")
    with pytest.raises(DataError, match="every line is longer than data.max_len=0"):
        encode_lines(f, vocab, 0, "drop", "data.train")


def test_vocabulary_comes_from_the_lines_as_kept(tmp_path):
    """Tokens only in dropped lines, or only past max_len in truncated ones, get no id."""
    (tmp_path / "train.txt").write_text("a b\nc d e f g\na b x y\n", encoding="utf-8")
    for overlong, extra in (("drop", []), ("truncate", ["c", "d", "e"])):
        ds = load_dataset(DataConfig(train=str(tmp_path / "train.txt"), tokenizer="space", max_len=3,
                                     overlong=overlong, max_drop=1.0))  # 2 of 3 lines dropped: allowed
        assert sorted(ds.vocab.tokens[4:]) == sorted(["a", "b"] + (["x"] if overlong == "truncate" else []) + extra)
        assert ds.train is not None and ds.train.unknown == 0


def test_load_dataset_reports(tmp_path):
    (tmp_path / "train.txt").write_text("a b a\nb c\n\nd\n", encoding="utf-8")
    (tmp_path / "test.txt").write_text("a z\n", encoding="utf-8")
    ds = load_dataset(DataConfig(train=str(tmp_path / "train.txt"), test=str(tmp_path / "test.txt"),
                                 tokenizer="space", max_vocab=6))
    assert ds.max_len == 3 and ds.train.ids.shape == (3, 4) and ds.test is not None
    assert ds.vocab.tokens == SPECIALS + ["a", "b"]
    text = "\n".join(ds.report)
    assert "2 rarer token types (2 occurrences, 33.33% of training tokens) map to <unk> (data.max_vocab=6)" in text
    assert "1 blank lines skipped" in text and "50.00% <unk>" in text
    assert torch.equal(ds.test.ids, torch.tensor([[4, UNK, EOS, PAD]]))


def test_held_out_tokens_the_training_data_never_maps_to_unk_are_warned_about(tmp_path):
    """A test file's unknown tokens count in NLL-test as <unk>; with no <unk> in the training lines the
    generator learns p(<unk>) near 0, so the run warns (naming the share and the fix). With
    data.min_freq=2 the training lines hold <unk> (the once-seen 'c'): no warning."""
    (tmp_path / "train.txt").write_text("a b c\na b\na b\n")
    (tmp_path / "test.txt").write_text("a z\na b\n")  # 'z': 1 of 4 tokens
    def warnings(**kw):
        ds = load_dataset(DataConfig(train=str(tmp_path / "train.txt"), test=str(tmp_path / "test.txt"),
                                     tokenizer="space", **kw))
        return [r for r in ds.report if r.startswith("seqgan: warning")]
    (w,) = warnings()
    assert "data.test: 25.00% of its tokens" in w and "data.min_freq=2" in w
    assert warnings(min_freq=2) == []
