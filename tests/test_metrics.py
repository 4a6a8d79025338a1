"""BLEU and Self-BLEU equal nltk's sentence_bleu with method1 smoothing (the Texygen protocol)."""

from __future__ import annotations

import random

import pytest

from seqgan.metrics import bleu, self_bleu

nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")


def nltk_mean_bleu(hyps, refs, n):
    sf = nltk_bleu.SmoothingFunction().method1
    w = tuple([1.0 / n] * n)
    return sum(nltk_bleu.sentence_bleu(refs, h, weights=w, smoothing_function=sf) for h in hyps) / len(hyps)


def nltk_self_bleu(samples, n):
    sf = nltk_bleu.SmoothingFunction().method1
    w = tuple([1.0 / n] * n)
    return sum(nltk_bleu.sentence_bleu(samples[:i] + samples[i + 1:], s, weights=w, smoothing_function=sf)
               for i, s in enumerate(samples)) / len(samples)


def corpus(rng: random.Random, size: int, vocab: int, max_len: int) -> list[list[str]]:
    """Random sentences, including empty ones and ones shorter than every n."""
    return [[f"w{rng.randrange(vocab)}" for _ in range(rng.choice([0, 1, 2, 3] + list(range(4, max_len))))]
            for _ in range(size)]


@pytest.mark.parametrize("seed", range(4))
def test_bleu_equals_nltk(seed):
    rng = random.Random(seed)
    refs = corpus(rng, 40, 5 + seed, 14)
    refs = [r for r in refs if r] or [["w0"]]
    hyps = corpus(rng, 30, 5 + seed, 14) + [[], ["w1"], ["w1", "w2"]]
    ours = bleu(hyps, refs, orders=(2, 3, 4, 5))
    for n in (2, 3, 4, 5):
        assert abs(ours[n] - nltk_mean_bleu(hyps, refs, n)) <= 1e-9, n


@pytest.mark.parametrize("seed", range(4))
def test_self_bleu_equals_nltk_and_never_uses_itself(seed):
    rng = random.Random(100 + seed)
    samples = corpus(rng, 30, 4 + seed, 12)
    samples += [list(samples[3]), [], ["w0"]]  # a duplicate (a real other reference), an empty and a 1-token sample
    ours = self_bleu(samples, orders=(2, 3, 4, 5))
    for n in (2, 3, 4, 5):
        assert abs(ours[n] - nltk_self_bleu(samples, n)) <= 1e-9, n


def test_self_bleu_excludes_the_sentence_itself():
    # two distinct sentences: with itself among its references each would score 1.0
    a, b = ["a", "b", "c", "d"], ["e", "f", "g", "h"]
    assert self_bleu([a, b], orders=(2,))[2] == 0.0
    assert self_bleu([a, list(a)], orders=(2, 4)) == {2: 1.0, 4: 1.0}  # an identical copy is another sentence
    assert bleu([a], [a], orders=(4,))[4] == 1.0


def test_errors():
    with pytest.raises(ValueError, match="at least one reference"):
        bleu([["a"]], [])
    with pytest.raises(ValueError, match="at least two samples"):
        self_bleu([["a"]])


def test_prepared_references_give_the_same_bleu():
    from seqgan.metrics import References
    rng = random.Random(9)
    refs = [r for r in corpus(rng, 50, 6, 12) if r]
    hyps = corpus(rng, 20, 6, 12)
    prepared = References(refs, 5)
    assert bleu(hyps, prepared) == bleu(hyps, refs)
    assert bleu(hyps[:5], prepared, orders=(2,)) == bleu(hyps[:5], refs, orders=(2,))
    with pytest.raises(ValueError, match="up to order 3"):
        bleu(hyps, References(refs, 3), orders=(4,))
