"""Benchmark: BLEU-2..5 and Self-BLEU-2..5 on 10,000 hypotheses against 10,000 references,
ours (seqgan.metrics) against nltk's sentence_bleu in a loop (the Texygen protocol).

nltk re-reads every reference for every hypothesis, so it is timed on a sample of the
hypotheses and extrapolated (labelled). The corpus: MS-COCO captions from ../shared/data
when present (train as hypotheses, test as references), else random sentences.

    python benchmarks/bleu.py [--n 10000] [--nltk-sample 20]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from seqgan.metrics import bleu, self_bleu

COCO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco_captions"


def load(n: int) -> tuple[list[list[str]], list[list[str]], str]:
    if (COCO / "image_coco.txt").is_file():
        hyps = [ln.split() for ln in (COCO / "image_coco.txt").read_text(encoding="utf-8").splitlines()][:n]
        refs = [ln.split() for ln in (COCO / "image_coco_test.txt").read_text(encoding="utf-8").splitlines()][:n]
        return hyps, refs, "MS-COCO captions (train lines as hypotheses, test lines as references)"
    rng = random.Random(0)
    make = lambda: [f"w{int(rng.paretovariate(1.2)) % 3000}" for _ in range(rng.randint(7, 20))]
    return [make() for _ in range(n)], [make() for _ in range(n)], "random Zipf-like sentences"


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--nltk-sample", type=int, default=20, help="hypotheses nltk scores per metric (extrapolated)")
    a = p.parse_args()
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    sf = SmoothingFunction().method1
    hyps, refs, what = load(a.n)
    print(f"{len(hyps)} hypotheses, {len(refs)} references: {what}")

    t0 = time.perf_counter()
    ours_b = bleu(hyps, refs, (2, 3, 4, 5))
    t_bleu = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_s = self_bleu(hyps, (2, 3, 4, 5))
    t_self = time.perf_counter() - t0

    k = a.nltk_sample
    t0 = time.perf_counter()
    for n in (2, 3, 4, 5):
        for h in hyps[:k]:
            sentence_bleu(refs, h, weights=(1 / n,) * n, smoothing_function=sf)
    nltk_bleu_s = (time.perf_counter() - t0) * len(hyps) / k
    t0 = time.perf_counter()
    for n in (2, 3, 4, 5):
        for i in range(k):
            sentence_bleu(hyps[:i] + hyps[i + 1:], hyps[i], weights=(1 / n,) * n, smoothing_function=sf)
    nltk_self_s = (time.perf_counter() - t0) * len(hyps) / k

    print("BLEU-2..5      " + "  ".join(f"{ours_b[n]:.4f}" for n in (2, 3, 4, 5)))
    print("Self-BLEU-2..5 " + "  ".join(f"{ours_s[n]:.4f}" for n in (2, 3, 4, 5)))
    print("\n| metric (orders 2-5) | ours s | nltk s (EXTRAPOLATED from %d hypotheses) | speed-up |" % k)
    print("|---|---|---|---|")
    print(f"| BLEU | {t_bleu:.2f} | {nltk_bleu_s:.0f} | {nltk_bleu_s / t_bleu:.0f}x |")
    print(f"| Self-BLEU | {t_self:.2f} | {nltk_self_s:.0f} | {nltk_self_s / t_self:.0f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
