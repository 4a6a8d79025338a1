"""Benchmark: what does `train.compile` buy? Eager vs torch.compile'd softmax work, same process.

`train.compile` compiles the per-chunk softmax work of the LSTM language models (the logits and
inverse-CDF draw of every sampling step, the logits and log-softmax of NLL scoring). At the
paper's sizes (V 5000, E 32, H 32, T 20), on the chosen device, this times each piece with
the eager kernels and with the compiled ones (`LSTMLM.set_compile`), alternating, so that
both see the same machine load:

1. sampling 9,984 sequences from the generator (negatives of a discriminator round, half of
   an NLL-oracle evaluation);
2. scoring 9,984 sequences with the oracle (`Oracle.nll`, the other half);
3. the rollout completions of one adversarial generator step (B 64, N 16:
   `sample_completions`, 19,456 completions; D's scoring is not part of it).

It prints each piece's seconds and the speed-up, the one-off compilation time, and whether
the compiled results equal the eager ones (sampled tokens: the share of identical rows; NLL:
the largest relative difference). Run from the repository root:

    python benchmarks/compile.py [--device cpu|cuda] [--mode default|reduce-overhead] [--threads N] [--quick]

--quick times one repeat of a quarter of each piece. Nothing is written to disk (torch's own
compilation cache aside).
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Callable, Optional, Sequence

import torch

from common import cuda_missing, make_parser, paper_config, print_table, setup, time_it
from mle import build_oracle
from seqgan.models import build_generator, Oracle
from seqgan.policies import Policy
from seqgan.policies.sampler import complete


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = make_parser((__doc__ or "").split("\n\n")[0], device=True)  # --device, --threads, --quick
    p.add_argument("--mode", choices=["default", "reduce-overhead"], default="default",
                   help="torch.compile mode (reduce-overhead: CUDA graphs on CUDA)")
    args = p.parse_args(argv)
    if cuda_missing(args):
        return 2
    setup(args)
    dev = torch.device(args.device)
    repeats = 1 if args.quick else 3
    cfg = paper_config()
    g = cfg.generator
    n = cfg.train.eval_samples // (4 if args.quick else 1)
    B, N = cfg.train.batch_size, cfg.adversarial.rollout_num // (4 if args.quick else 1)

    oracle, desc = build_oracle(cfg)
    oracle = oracle.to(dev)
    gen = build_generator(g, torch.Generator().manual_seed(1)).to(dev)
    print(f"device {dev}  mode {args.mode}  oracle: {desc}")
    rng = lambda seed: torch.Generator(device=dev).manual_seed(seed)
    sync: Callable[[], None] = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    Y = gen.sample(B, rng(5))
    seqs = gen.sample(n, rng(6))
    gen_c, oracle_c = copy.deepcopy(gen), copy.deepcopy(oracle)  # same weights, compiled kernels

    def make_pieces(G: Policy, orc: Oracle) -> dict[str, Callable[[], object]]:
        return {f"sampling {n:,} from G": lambda: G.sample(n, rng(0)),
                f"oracle scoring of {n:,}": lambda: orc.nll(seqs),
                f"rollout completions (B {B}, N {N})": lambda: complete(G, Y, N, rng(1))}

    variants = {"eager": make_pieces(gen, oracle), "compiled": make_pieces(gen_c, oracle_c)}
    t0 = time.perf_counter()
    gen_c.set_compile(args.mode)
    oracle_c.set_compile(args.mode)
    out = {v: {k: f() for k, f in pieces.items()} for v, pieces in variants.items()}  # compiles every shape
    sync()
    compile_s = time.perf_counter() - t0
    times: dict[str, dict[str, list[float]]] = {v: {k: [] for k in variants["eager"]} for v in variants}
    for _ in range(repeats):  # alternate, so both variants see the same load
        for v, pieces in variants.items():
            for k, f in pieces.items():
                times[v][k] += time_it(lambda f=f: (f(), sync()), repeats=1, burn_in=0).seconds

    rows = []
    for k in variants["eager"]:
        a, b = out["eager"][k], out["compiled"][k]
        if isinstance(a, float) and isinstance(b, float):
            same = f"NLL rel. diff {abs(a - b) / abs(a):.1e}"
        else:
            assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
            a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
            same = f"{100 * (a2 == b2).all(1).float().mean().item():.2f} % rows identical"
        e, c = (statistics.median(times[v][k]) for v in ("eager", "compiled"))
        rows.append([k, f"{e:.3f}", f"{c:.3f}", f"{e / c:.2f}x", same])
    print_table(f"eager vs torch.compile (mode {args.mode}), median of {repeats} alternating repeats",
                ["piece", "eager s", "compiled s", "speed-up", "compiled = eager?"], rows)
    print(f"  one-off: compilation plus one call of every piece in each variant: {compile_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
