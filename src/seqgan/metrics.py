"""Evaluation metrics, pure functions named as in the paper.

NLL-oracle (reference §4) is the oracle's `Policy.nll` of generator samples,
`oracle.nll(generator.sample(n, rng))`, as training (`Run.score`), `seqgan evaluate` and `seqgan sweep`
compute it; NLL-test (`nll_test`) is the generator's own `Policy.nll` of held-out sequences."""

from __future__ import annotations

import math
import sys
from bisect import bisect_left
from collections import Counter
from typing import Callable, Hashable, Iterable, Literal, Optional, Sequence

import torch

from seqgan.policies import Policy


# ============================================================================ BLEU and Self-BLEU
#
# nltk's `sentence_bleu(references, hypothesis, weights=(1/n,)*n,
# smoothing_function=SmoothingFunction().method1)` for each hypothesis, averaged (the Texygen
# protocol), computed exactly but with the references preprocessed once: for every n-gram the
# largest count in any reference, and the sorted reference lengths. Per hypothesis and order n:
#   matches_n = sum over its n-grams of min(count, max reference count), total_n = max(1, #n-grams)
#   p_n = matches_n / total_n, or 0.1 / total_n when matches_n = 0 (method1)
#   (PG-BLEU's unsmoothed reward, smoothing="none": sys.float_info.min when matches_n = 0, as
#   nltk's method0 does since 3.4; nltk 3.10: a score near 1e-103 for BLEU-3, not exactly 0)
#   BLEU = 0 when no unigram matches, else BP * exp(sum_n (1/n) log p_n),
#   BP = 1 if c > r, 0 if c = 0, else exp(1 - r / c), r the closest reference length (ties: shorter).

Sentence = Sequence[Hashable]
_EPSILON = 0.1  # nltk SmoothingFunction().epsilon, used by method1
Smoothing = Literal["method1", "none"]


def _ngrams(tokens: Sentence, n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _closest(sorted_lengths: list[int], c: int) -> int:
    """The length closest to c, the shorter one on ties (nltk's closest_ref_length)."""
    i = bisect_left(sorted_lengths, c)
    candidates = sorted_lengths[max(0, i - 1):i + 1]
    return min(candidates, key=lambda r: (abs(r - c), r))


def _sentence_bleu(hyp: Sentence, max_order: int, max_ref_count: list[dict], ref_len: int,
                   smoothing: Smoothing = "method1") -> float:
    """One hypothesis against references summarised by per-order max counts and its closest length.
    smoothing: "method1" (nltk's SmoothingFunction().method1, 0.1 / total for an order without a
    match) or "none" (nltk's unsmoothed default, method0: sys.float_info.min for that order)."""
    c = len(hyp)
    log_sum = []
    weight = 1.0 / max_order
    for n in range(1, max_order + 1):
        counts = _ngrams(hyp, n)
        table = max_ref_count[n - 1]
        matches = sum(min(k, table.get(g, 0)) for g, k in counts.items())
        total = max(1, sum(counts.values()))
        if n == 1 and matches == 0:
            return 0.0
        if matches:
            p = matches / total
        else:
            p = _EPSILON / total if smoothing == "method1" else sys.float_info.min
        log_sum.append(weight * math.log(p))
    if c > ref_len:
        bp = 1.0
    elif c == 0:
        bp = 0.0
    else:
        bp = math.exp(1 - ref_len / c)
    return bp * math.exp(math.fsum(log_sum))


def _max_counts(references: Iterable[Sentence], max_order: int) -> list[dict]:
    tables: list[dict] = [{} for _ in range(max_order)]
    for ref in references:
        for n in range(1, max_order + 1):
            table = tables[n - 1]
            for g, k in _ngrams(ref, n).items():
                if k > table.get(g, 0):
                    table[g] = k
    return tables


class References:
    """A reference set summarised once for BLEU (per n-gram its largest count in any reference,
    and the reference lengths), to score many hypothesis sets against the same test file."""

    def __init__(self, references: Sequence[Sentence], max_order: int = 5) -> None:
        if not references:
            raise ValueError("bleu needs at least one reference sentence")
        self.max_order = max_order
        self.tables = _max_counts(references, max_order)
        self.lengths = sorted(set(len(r) for r in references))
        self.size = len(references)


def bleu(hypotheses: Sequence[Sentence], references: "Sequence[Sentence] | References",
         orders: Sequence[int] = (2, 3, 4, 5)) -> dict[int, float]:
    """Mean sentence BLEU-n of `hypotheses` against the whole reference set, for each n in `orders`.

    Equal to averaging nltk's sentence_bleu(references, h, weights=(1/n,)*n,
    smoothing_function=SmoothingFunction().method1) over the hypotheses (tested to 1e-9).
    Sentences are token sequences (lists of strings or ids); `references` may be a prepared
    `References` (the same numbers, without re-reading the references).
    """
    if not hypotheses:
        raise ValueError("bleu needs at least one hypothesis")
    if not isinstance(references, References):
        references = References(references, max(orders))
    if references.max_order < max(orders):
        raise ValueError(f"References were prepared up to order {references.max_order}; BLEU-{max(orders)} needs more")
    return {n: math.fsum(sentence_bleus(hypotheses, references, n)) / len(hypotheses) for n in orders}


def sentence_bleus(hypotheses: Sequence[Sentence], references: "Sequence[Sentence] | References",
                   order: int, smoothing: Smoothing = "method1") -> list[float]:
    """Sentence BLEU-`order` of each hypothesis against the whole reference set: nltk's
    sentence_bleu(references, h, weights=(1/order,)*order, smoothing_function=SmoothingFunction().method1),
    or with smoothing="none" nltk's unsmoothed sentence_bleu (no smoothing_function; tested against nltk 3.10)."""
    if smoothing not in ("method1", "none"):
        raise ValueError(f"smoothing={smoothing!r} must be 'method1' or 'none'")
    if not isinstance(references, References):
        references = References(references, order)
    if references.max_order < order:
        raise ValueError(f"References were prepared up to order {references.max_order}; BLEU-{order} needs more")
    tables, lengths = references.tables, references.lengths
    return [_sentence_bleu(h, order, tables, _closest(lengths, len(h)), smoothing) for h in hypotheses]


def self_bleu(samples: Sequence[Sentence], orders: Sequence[int] = (2, 3, 4, 5)) -> dict[int, float]:
    """Mean Self-BLEU-n: each sample scored by sentence BLEU-n against all the *other* samples
    (never itself; an identical copy elsewhere in the set does count), for each n in `orders`.

    Exact: per n-gram the two largest counts over the samples (and how many samples hold
    the largest) give the largest count among the others in O(1) per n-gram.
    """
    if len(samples) < 2:
        raise ValueError("self_bleu needs at least two samples")
    max_order = max(orders)
    counts = [[_ngrams(s, n) for n in range(1, max_order + 1)] for s in samples]
    top: list[dict] = [{} for _ in range(max_order)]  # g -> [max1, how many have max1, max2]
    for per_order in counts:
        for n, cnt in enumerate(per_order):
            table = top[n]
            for g, k in cnt.items():
                t = table.get(g)
                if t is None:
                    table[g] = [k, 1, 0]
                elif k > t[0]:
                    table[g] = [k, 1, t[0]]
                elif k == t[0]:
                    t[1] += 1
                elif k > t[2]:
                    t[2] = k
    length_count = Counter(len(s) for s in samples)
    lengths = sorted(length_count)

    out = {}
    for order in orders:
        scores = []
        for s, per_order in zip(samples, counts):
            # the others' largest count of each of this sample's n-grams
            others: list[dict] = []
            for n in range(order):
                table = top[n]
                d = {}
                for g, k in per_order[n].items():
                    m1, k1, m2 = table[g]
                    d[g] = m2 if (k == m1 and k1 == 1) else m1
                others.append(d)
            c = len(s)
            if length_count[c] > 1:
                r = c
            else:  # closest among the other samples' lengths
                r = _closest(_without(lengths, c), c)
            scores.append(_sentence_bleu(s, order, others, r))
        out[order] = math.fsum(scores) / len(samples)
    return out


def _without(sorted_lengths: list[int], c: int) -> list[int]:
    """The neighbours of c in sorted_lengths, c itself removed (enough for _closest)."""
    i = bisect_left(sorted_lengths, c)
    return [x for x in sorted_lengths[max(0, i - 2):i + 3] if x != c]


# ============================================================================ task=data metrics

@torch.no_grad()
def nll_test(generator: Policy, test_ids: torch.Tensor, temperature: float = 1.0) -> float:
    """NLL-test: the generator's mean per-token NLL (nats) of held-out sequences (M, T), each
    position up to and including its <eos> counted once, padding never; of softmax(logits / T)."""
    return generator.nll(test_ids, temperature=temperature)


#: the seed of the fresh sample stream every task=data evaluation draws from: in training (each
#: evaluation, hence summary.json and `seqgan compare`) and in `seqgan evaluate` (its --seed
#: default), so that the same generator, sample count and device give the same BLEU everywhere
EVAL_SEED = 0


@torch.no_grad()
def text_metrics(generator: Policy, decode: "Callable[[list[int]], list[str]]", num_samples: int,
                 rng: Optional[torch.Generator] = None, references: "Optional[References]" = None,
                 test_ids: Optional[torch.Tensor] = None, valid_ids: Optional[torch.Tensor] = None,
                 orders: Sequence[int] = (2, 3, 4, 5), temperature: float = 1.0) -> dict[str, float]:
    """The task=data metrics table: nll_test / nll_valid (when given), then BLEU-n of
    `num_samples` generated sentences against `references` (the test file) and their Self-BLEU-n.
    `decode` maps a row of ids to its tokens (up to <eos>). The samples come from `rng`: a fresh
    stream seeded `EVAL_SEED` in training and in `seqgan evaluate`. `temperature`: of the
    generator's softmax(logits / T), for the samples and the NLLs alike (`seqgan evaluate --temperature`)."""
    out: dict[str, float] = {}
    if test_ids is not None:
        out["nll_test"] = nll_test(generator, test_ids, temperature)
    if valid_ids is not None:
        out["nll_valid"] = nll_test(generator, valid_ids, temperature)
    samples = [decode(row) for row in generator.sample(num_samples, rng, temperature=temperature).tolist()]
    if references is not None:
        out.update({f"bleu{n}": v for n, v in bleu(samples, references, orders).items()})
    if num_samples >= 2:
        out.update({f"self_bleu{n}": v for n, v in self_bleu(samples, orders).items()})
    out["mean_len"] = sum(len(s) for s in samples) / len(samples)
    return out
