"""Benchmark: what stopping at <eos> saves, on MS-COCO-sized sequences (coco preset sizes).

A generator pre-trained for a few MLE epochs on the COCO captions (from ../shared/data when
present, else random sentences of the same length distribution) samples sequences of at most
24 tokens + <eos> (mean about 11); then, in the same process:

- sampling 10,000 sequences: finished rows leave the batch (`compact`, the CPU default) vs
  every row stepping to the end and being padded (the host-sync-free CUDA way);
- the rollout rewards of one generator step (B 64, N 16) with the coco preset's
  discriminator: the same two ways, and the fixed-length computation (all T-1 prefixes
  completed to the full length, what a port without <eos> handling does).

    python benchmarks/varlen.py [--threads N] [--quick]
"""

from __future__ import annotations

import copy

import random
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, parse_args, setup, time_it  # noqa: E402

from seqgan.config import DataConfig, DiscriminatorConfig, GeneratorConfig, Sizes  # noqa: E402
from seqgan.data import BOS, EOS, load_dataset  # noqa: E402
from seqgan.models import Discriminator, build_generator  # noqa: E402
from seqgan.policies.sampler import complete  # noqa: E402
from seqgan.rewards import DiscriminatorReward  # noqa: E402
from seqgan.rollout import rollout_rewards  # noqa: E402
from seqgan.train.mle import mle_epoch  # noqa: E402
from seqgan.train.run import make_adam  # noqa: E402

COCO = REPO_ROOT.parent / "shared" / "data" / "coco_captions" / "image_coco.txt"


def corpus(tmp: Path) -> Path:
    if COCO.is_file():
        return COCO
    rng = random.Random(0)
    words = [f"w{i}" for i in range(4600)]
    path = tmp / "random.txt"
    path.write_text("".join(" ".join(rng.choice(words) for _ in range(min(24, max(7, int(rng.gauss(11, 3))))))
                            + "\n" for _ in range(10000)))
    return path


def main() -> None:
    args = parse_args(__doc__)
    setup(args)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src = corpus(Path(tmp))
        ds = load_dataset(DataConfig(train=str(src), max_len=24))
    print(f"data: {src.name if src == COCO else 'random sentences'}, {ds.train.ids.shape[0]} sequences, "
          f"vocabulary {len(ds.vocab)}, T = {ds.max_len + 1}")
    T = ds.max_len + 1
    gen = build_generator(GeneratorConfig(), torch.Generator().manual_seed(0), Sizes(len(ds.vocab), T, BOS, EOS))
    opt = make_adam(gen, 0.01)
    for _ in range(1 if args.quick else 3):
        mle_epoch(gen, opt, ds.train.ids, 64, 5.0, lm=gen)
    disc = Discriminator(DiscriminatorConfig(), len(ds.vocab), T, torch.Generator().manual_seed(1)).eval()
    Y = gen.sample(64, torch.Generator().manual_seed(2))
    mean_len = float(gen.mask(Y).sum(1).float().mean())
    print(f"generator after {1 if args.quick else 3} MLE epochs: mean sampled length {mean_len:.1f} "
          f"of {T} positions (with <eos>)")
    n = 2000 if args.quick else 10000
    reps = 1 if args.quick else 3
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    t_compact = time_it(lambda: gen.sample(n, g(), compact=True), repeats=reps).median
    t_padded = time_it(lambda: gen.sample(n, g(), compact=False), repeats=reps).median
    print(f"\nsampling {n}: finished rows leave the batch {t_compact:.2f} s; padded to the end {t_padded:.2f} s "
          f"(x{t_padded / t_compact:.2f})")

    N = 16
    fixed = copy.deepcopy(gen)  # the same weights read as fixed-length: every prefix, to the end
    fixed.eos_token, fixed.logit_mask = None, None
    comp, *_ = complete(gen, Y, N, g(), compact=True)
    full = complete(fixed, Y, N, g())[0].view(T - 1, N, Y.shape[0], T)
    t_roll_c = time_it(lambda: complete(gen, Y, N, g(), compact=True), repeats=reps).median
    t_roll_p = time_it(lambda: complete(gen, Y, N, g(), compact=False), repeats=reps).median
    t_roll_f = time_it(lambda: complete(fixed, Y, N, g()), repeats=reps).median
    t_q = time_it(lambda: rollout_rewards(gen, DiscriminatorReward(disc), Y, N, g()), repeats=reps).median
    t_score_c = time_it(lambda: disc.prob_real(comp), repeats=reps).median
    t_score_f = time_it(lambda: disc.prob_real(full.view(-1, T)), repeats=reps).median
    print(f"\nrollouts of one generator step (B 64, N {N}): {comp.shape[0]} completions of unfinished prefixes "
          f"(fixed length: {full.shape[0] * full.shape[1] * full.shape[2]})")
    print(f"  completions, compact       {t_roll_c:.2f} s")
    print(f"  completions, padded        {t_roll_p:.2f} s (x{t_roll_p / t_roll_c:.2f})")
    print(f"  completions, fixed length  {t_roll_f:.2f} s (x{t_roll_f / t_roll_c:.2f})")
    print(
        f"  D scoring, unfinished only {t_score_c:.2f} s; all prefixes {t_score_f:.2f} s (x{t_score_f / t_score_c:.2f})"
    )
    print(f"  whole rollout_rewards (CPU default) {t_q:.2f} s")


if __name__ == "__main__":
    main()
