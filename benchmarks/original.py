"""Benchmark: this package against the original SeqGAN (LantaoYu/SeqGAN, TensorFlow 1 code), side
by side on this machine, piece by piece, in interleaved rounds.

The original's code is not part of this repository: give a checkout of it (`--original DIR`,
e.g. `git clone https://github.com/LantaoYu/SeqGAN`) and a Python with TensorFlow 2
(`--tf-python`, e.g. a venv with `pip install tensorflow`). Its modules (generator.py,
discriminator.py, rollout.py, target_lstm.py) are copied to a temporary directory with one
change, `import tensorflow as tf` -> `import tensorflow.compat.v1 as tf` (with
`tf.disable_v2_behavior()`; `control_flow_ops.while_loop` -> `tf.while_loop`, which TF 2 moved), and driven by a
harness written here that times the same pieces
as its `sequence_gan.py` runs them: an MLE epoch (156 `pretrain_step`s), an NLL-oracle
evaluation (9,984 samples from the generator, scored by the oracle `TARGET_LSTM`), an
adversarial generator step (`generate`, `ROLLOUT.get_reward` with N = 16, `g_updates`) and a
discriminator epoch (312 `train_op` batches of 64, extrapolated from a slice with --d-batches).
The oracle's parameters come from shared/reference/seqgan_oracle.npz (the original's, in its
pickle order; no pickle is read). The original runs twice per round: with TensorFlow's default
oneDNN kernels and with TF_ENABLE_ONEDNN_OPTS=0; ours in fp32 and (where the CPU has a bfloat16
fast path) bf16. Each run is a fresh process; rounds interleave them so that drift hits all alike.

    python benchmarks/original.py --original ../SeqGAN --tf-python /path/to/venv/bin/python \
        [--rounds 4] [--d-batches 52] [--threads 2]

Prints the medians per piece and the ratios of ours against the original's best setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORACLE_NPZ = HERE.parent.parent / "shared" / "reference" / "seqgan_oracle.npz"
PIECES = ("mle_epoch", "nll_eval", "g_step", "d_epoch")
MODULES = ("generator.py", "discriminator.py", "rollout.py", "target_lstm.py")
#: the only changes to the original's modules (TF 2 has moved `while_loop` out of control_flow_ops)
PATCHES = [("import tensorflow as tf", "import tensorflow.compat.v1 as tf"),
           ("control_flow_ops.while_loop(", "tf.while_loop(")]
PKL_ORDER = ["embedding"] + [f"{m}_{g}" for g in "ifoc" for m in ("W", "U", "b")] + ["W_out", "b_out"]

ORIGINAL_HARNESS = r'''
import json, sys, time
import numpy as np
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
sys.path.insert(0, sys.argv[1])
from generator import Generator
from discriminator import Discriminator
from rollout import ROLLOUT
from target_lstm import TARGET_LSTM
npz, d_batches, threads = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
z = np.load(npz)
params = [z[k] for k in json.loads(sys.argv[5])]
B, V, T = 64, 5000, 20
np.random.seed(88)
tf.set_random_seed(88)
generator = Generator(V, B, 32, 32, T, 0)
target = TARGET_LSTM(V, B, 32, 32, T, 0, params)
disc = Discriminator(sequence_length=20, num_classes=2, vocab_size=V, embedding_size=64,
                     filter_sizes=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20],
                     num_filters=[100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160], l2_reg_lambda=0.2)
config = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
sess = tf.Session(config=config)
sess.run(tf.global_variables_initializer())
real = np.concatenate([target.generate(sess) for _ in range(156)])
out = {}
def timed(name, fn):
    t0 = time.perf_counter(); fn(); out[name] = time.perf_counter() - t0
def mle_epoch():
    for i in range(156):
        generator.pretrain_step(sess, real[i * B:(i + 1) * B])
def nll_eval():
    samples = np.concatenate([generator.generate(sess) for _ in range(156)])
    np.mean([sess.run(target.pretrain_loss, {target.x: samples[i * B:(i + 1) * B]}) for i in range(156)])
rollout = ROLLOUT(generator, 0.8)
def g_step():
    samples = generator.generate(sess)
    rewards = rollout.get_reward(sess, samples, 16, disc)
    sess.run(generator.g_updates, {generator.x: samples, generator.rewards: rewards})
x = np.concatenate([real, np.concatenate([generator.generate(sess) for _ in range(156)])])
y = np.array([[0, 1]] * 9984 + [[1, 0]] * 9984)
perm = np.random.permutation(len(x)); x, y = x[perm], y[perm]
def d_slice():
    for i in range(d_batches):
        sess.run(disc.train_op, {disc.input_x: x[i * B:(i + 1) * B], disc.input_y: y[i * B:(i + 1) * B],
                                 disc.dropout_keep_prob: 0.75})
mle_epoch(); nll_eval(); g_step(); d_slice()  # burn-in: graph functions, allocator
timed("mle_epoch", mle_epoch); timed("nll_eval", nll_eval); timed("g_step", g_step); timed("d_slice", d_slice)
out["d_epoch"] = out.pop("d_slice") * 312 / d_batches
print("RESULT " + json.dumps(out))
'''

OURS_HARNESS = r'''
import json, sys, time, contextlib
import torch
from seqgan.config import load_config
from seqgan.losses import discriminator_loss
from seqgan.models import Discriminator, Oracle, build_generator
from seqgan.perf import tune_allocator
from seqgan.rewards import DiscriminatorReward
from seqgan.train.adversarial import pg_step
from seqgan.train.mle import mle_epoch
from seqgan.train.run import make_adam
npz, d_batches, threads, bf16 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "bf16"
if threads > 0:  # as benchmarks/common.configure_cpu
    torch.set_num_threads(threads)
tune_allocator()
cfg = load_config("paper")
ac = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
g = torch.Generator().manual_seed(88)
oracle = Oracle.from_npz(npz, 20)
gen = build_generator(cfg.generator, torch.Generator().manual_seed(1))
disc = Discriminator(cfg.discriminator, 5000, 20, torch.Generator().manual_seed(2))
real = oracle.sample(9984, g)
opt_mle, opt_pg, opt_d = make_adam(gen, 0.01), make_adam(gen, 0.01), make_adam(disc, 1e-4)
reward = DiscriminatorReward(disc, autocast=ac)
x = torch.cat([real, gen.sample(9984, g)])
y = torch.cat([torch.ones(9984, dtype=torch.long), torch.zeros(9984, dtype=torch.long)])
perm = torch.randperm(len(x), generator=g); x, y = x[perm], y[perm]
out = {}
def timed(name, fn):
    t0 = time.perf_counter(); fn(); out[name] = time.perf_counter() - t0
def d_slice():
    disc.train()
    for i in range(d_batches):
        with ac():
            logits = disc(x[i * 64:(i + 1) * 64], dropout_generator=g)
        loss = discriminator_loss(disc, logits.float(), y[i * 64:(i + 1) * 64], 0.2)
        opt_d.zero_grad(set_to_none=True); loss.backward(); opt_d.step()
pieces = {"mle_epoch": lambda: mle_epoch(gen, opt_mle, real, 64, 5.0, autocast=ac),
          "nll_eval": lambda: oracle.nll(gen.sample(9984, g)),  # NLL-oracle as a run computes it
          "g_step": lambda: pg_step(gen, gen, reward, opt_pg, cfg.adversarial, 64, 5.0, g, autocast=ac),
          "d_slice": d_slice}
for fn in pieces.values():
    fn()  # burn-in
for name, fn in pieces.items():
    timed(name, fn)
out["d_epoch"] = out.pop("d_slice") * 312 / d_batches
print("RESULT " + json.dumps(out))
'''


def run(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{' '.join(cmd[:2])} failed:\n{p.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--original", required=True, help="a checkout of LantaoYu/SeqGAN")
    p.add_argument("--tf-python", required=True, help="a Python interpreter with TensorFlow 2 installed")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--d-batches", type=int, default=52, help="discriminator batches timed (of 312), extrapolated")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-bf16", action="store_true")
    args = p.parse_args(argv)
    src = Path(args.original)
    missing = [m for m in MODULES if not (src / m).is_file()]
    if missing or not ORACLE_NPZ.is_file():
        print(f"missing: {missing or ORACLE_NPZ}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="seqgan-original-"))
    for m in MODULES:  # TF 1 names through TF 2's compat.v1; nothing else changes
        text = (src / m).read_text()
        for old, new in PATCHES:
            text = text.replace(old, new)
        (tmp / m).write_text(text)
    (tmp / "harness_original.py").write_text(ORIGINAL_HARNESS)
    (tmp / "harness_ours.py").write_text(OURS_HARNESS)
    sys.path.insert(0, str(HERE.parent / "src"))
    from seqgan.perf import cpu_bf16_fast_path
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(HERE.parent / "src"))
    variants = {
        "original, oneDNN (TF default)": ([args.tf_python, str(tmp / "harness_original.py"), str(tmp), str(ORACLE_NPZ),
                                           str(args.d_batches), str(args.threads), json.dumps(PKL_ORDER)],
                                          {"TF_ENABLE_ONEDNN_OPTS": "1"}),
        "original, TF_ENABLE_ONEDNN_OPTS=0": ([args.tf_python, str(tmp / "harness_original.py"), str(tmp),
                                               str(ORACLE_NPZ), str(args.d_batches), str(args.threads),
                                               json.dumps(PKL_ORDER)], {"TF_ENABLE_ONEDNN_OPTS": "0"}),
        "seqgan fp32": ([sys.executable, str(tmp / "harness_ours.py"), str(ORACLE_NPZ), str(args.d_batches),
                         str(args.threads), "fp32"], {}),
    }
    if not args.no_bf16 and cpu_bf16_fast_path():
        variants["seqgan bf16"] = ([sys.executable, str(tmp / "harness_ours.py"), str(ORACLE_NPZ),
                                    str(args.d_batches), str(args.threads), "bf16"], {})
    times: dict[str, dict[str, list[float]]] = {v: {k: [] for k in PIECES} for v in variants}
    for r in range(args.rounds):
        for name, (cmd, extra) in variants.items():
            res = run(cmd, dict(env, **extra))
            for k in PIECES:
                times[name][k].append(res[k])
            print(f"round {r}: {name}: " + ", ".join(f"{k} {res[k]:.2f} s" for k in PIECES), flush=True)
    med = {v: {k: statistics.median(t[k]) for k in PIECES} for v, t in times.items()}
    print(f"\nmedians of {args.rounds} interleaved rounds, seconds ({args.threads} threads; discriminator "
          f"epoch extrapolated from {args.d_batches} of 312 batches)")
    print("piece".ljust(12) + "".join(v[:34].rjust(36) for v in med))
    for k in PIECES:
        print(k.ljust(12) + "".join(f"{med[v][k]:36.2f}" for v in med))
    originals = [v for v in med if v.startswith("original")]
    print("\nours against the original's best setting per piece (speed-up)")
    for ours in (v for v in med if v.startswith("seqgan")):
        cells = []
        for k in PIECES:
            best = min(originals, key=lambda v: med[v][k])
            cells.append(f"{k} {med[best][k] / med[ours][k]:.2f}x (vs {best.split(', ')[1]})")
        print(f"{ours}: " + "; ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
