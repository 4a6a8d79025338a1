"""Helpers shared by the tests that run `seqgan train` in subprocesses and compare runs."""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import torch
from typing import Any, Sequence


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, W: torch.Tensor, U: torch.Tensor,
              b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step written out from its equations (gates i, f, o, g in that order, the
    original's layout): x (.., E), h and c (.., H), W (E, 4H), U (H, 4H), b (4H) -> (h, c)."""
    H = h.shape[-1]
    i = torch.sigmoid(x @ W[:, :H] + h @ U[:, :H] + b[:H])
    f = torch.sigmoid(x @ W[:, H:2 * H] + h @ U[:, H:2 * H] + b[H:2 * H])
    o = torch.sigmoid(x @ W[:, 2 * H:3 * H] + h @ U[:, 2 * H:3 * H] + b[2 * H:3 * H])
    g = torch.tanh(x @ W[:, 3 * H:] + h @ U[:, 3 * H:] + b[3 * H:])
    c = f * c + i * g
    return o * torch.tanh(c), c


def metrics_without_timing(run: Path) -> list[dict]:
    """metrics.jsonl records without the wall-clock keys (*_s), which differ between runs."""
    return [{k: v for k, v in json.loads(ln).items() if not k.endswith("_s")}
            for ln in (run / "metrics.jsonl").read_text().splitlines()]


def weights(run: Path, name: str = "generator.safetensors") -> dict[str, torch.Tensor]:
    """The tensors of the run's weight file `name`."""
    from safetensors.torch import load_file
    return load_file(str(run / name))


def wait_for_phase(proc: subprocess.Popen, out: Path, phase: str = "adversarial", timeout: float = 300) -> None:
    """Block until the run in `out` has logged a record of `phase` (the process must stay alive)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        m = out / "metrics.jsonl"
        if m.exists() and f'"phase": "{phase}"' in m.read_text():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"the run did not reach the {phase} phase in {timeout} s")


def write_corpus(folder: Path, sizes: dict[str, int], max_words: int, seed: int = 0) -> None:
    """Small word corpora for data runs: files named by `sizes` with that many lines of 2 to
    `max_words` words each, drawn in order from one seeded stream."""
    rng = random.Random(seed)
    words = "a man dog cat rides sits on the bench street red small .".split()
    for name, n in sizes.items():
        (folder / name).write_text("".join(" ".join(rng.choice(words) for _ in range(rng.randint(2, max_words))) + "\n"
                                           for _ in range(n)))


#: the one tiny oracle-task config every test starts from (tiny_config / tiny_yaml in conftest.py)
TINY: dict[str, Any] = {
    "seed": 3,
    "device": "cpu",
    "oracle": {"seed": 1, "num_samples": 256, "emb_dim": 8, "hidden_dim": 8},
    "generator": {"vocab_size": 40, "emb_dim": 8, "hidden_dim": 8, "seq_len": 8},
    "discriminator": {"emb_dim": 8, "filter_sizes": [1, 2, 4], "num_filters": [4, 4, 4]},
    "pretrain": {"generator_epochs": 3, "discriminator_rounds": 2, "discriminator_epochs": 1},
    "adversarial": {"iterations": 3, "discriminator_rounds": 1, "discriminator_epochs": 1, "rollout_num": 2},
    "train": {"batch_size": 32, "eval_every": 2, "eval_samples": 128},
}

#: the overrides of TINY that every GAN method runs in seconds with, checkpointing every iteration
#: (the gan_yaml fixture; test_interface, test_leakgan, test_maligan, test_rankgan, test_objective)
GAN: dict[str, Any] = {
    "seed": 4,
    "oracle": {"seed": 3, "test_samples": 128},
    "generator.vocab_size": 60,
    "discriminator": {"filter_sizes": [2, 3], "num_filters": [8, 8]},
    "pretrain.generator_epochs": 2,
    "adversarial": {"iterations": 6, "batch_size": 16},
    "train": {"checkpoint_every": 1, "keep_checkpoints": 3, "threads": 1, "tensorboard": False},
}

#: the overrides of the resume tests' runs (resume_yaml, reference_run):
#: big enough that an adversarial iteration takes a fraction of a second, small enough for CI
RESUME: dict[str, Any] = {
    "seed": 11,
    "oracle": {"seed": 2, "num_samples": 512, "emb_dim": 16, "hidden_dim": 16},
    "generator": {"vocab_size": 300, "emb_dim": 16, "hidden_dim": 16, "seq_len": 10},
    "discriminator": {"emb_dim": 16, "filter_sizes": [2, 3, 5], "num_filters": [32, 32, 32]},
    "adversarial": {"iterations": 8, "discriminator_rounds": 2, "rollout_num": 4, "rollout_update_rate": 0.8},
    "train": {"eval_samples": 256, "checkpoint_every": 1, "keep_checkpoints": 3, "threads": 1, "tensorboard": False},
}

#: the overrides of the Table 1 baselines' runs (scheduled sampling, PG-BLEU, MLE; the baseline_yaml fixture)
BASELINES: dict[str, Any] = {
    "seed": 5,
    "oracle": {"seed": 2, "num_samples": 512, "emb_dim": 16, "hidden_dim": 16},
    "generator": {"vocab_size": 200, "emb_dim": 16, "hidden_dim": 16, "seq_len": 10},
    "discriminator": {"emb_dim": 16, "filter_sizes": [2, 3, 5], "num_filters": [16, 16, 16]},
    "pretrain.generator_epochs": 4,
    "adversarial.iterations": 6,
    "scheduled_sampling.decay": 0.1,
    "train": {"eval_samples": 256, "checkpoint_every": 1, "keep_checkpoints": 3, "threads": 1, "tensorboard": False},
}


def tiny_config_dict(**overrides: Any) -> dict[str, Any]:
    """TINY with `overrides` applied. A key is a top-level key or section (`seed=5`,
    `adversarial={"iterations": 2}`: a dict is merged into the section, key by key) or a dotted
    path (`**{"adversarial.iterations": 2}`); the value None deletes the key, so the package's
    default applies (`discriminator=None`)."""
    import copy
    cfg = copy.deepcopy(TINY)

    def put(node: dict[str, Any], path: list[str], value: Any) -> None:
        for k in path[:-1]:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(path[-1], None)
        elif isinstance(value, dict) and isinstance(node.get(path[-1]), dict):
            for k, v in value.items():
                put(node[path[-1]], [k], v)
        else:
            node[path[-1]] = copy.deepcopy(value)

    for key, value in overrides.items():
        put(cfg, key.split("."), value)
    return cfg


def write_tiny_config(path: Path, **overrides: Any) -> Path:
    """Write tiny_config_dict(**overrides) as YAML to `path`; returns `path`."""
    import yaml
    path.write_text(yaml.safe_dump(tiny_config_dict(**overrides), sort_keys=False))
    return path


def train_cli(cfg: Path, out: Path, *sets: str, args: Sequence[str] = ()) -> int:
    """The tests' one way to train a run: `seqgan train --config cfg --out out -q [args] --set ...`
    in this process (`sets` are KEY=VALUE, `args` other command-line options); its exit code."""
    from seqgan.cli import main
    return main(["train", "--config", str(cfg), "--out", str(out), "-q", *args,
                 *[a for s in sets for a in ("--set", s)]])


def train_tiny(out: Path, *sets: str, **overrides: Any) -> Path:
    """Train tiny_config(**overrides) (its file beside `out`) with `sets` into `out` through
    train_cli, assert it succeeded, and return `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg = write_tiny_config(out.parent / f"{out.name}.yaml", **overrides)
    assert train_cli(cfg, out, *sets) == 0
    return out


def kill_and_resume_equals(cfg: Path, ref: Path, out: Path, sets: list[str], weight_files: list[str]) -> None:
    """Start `seqgan train` in a subprocess, SIGKILL it inside the adversarial phase, resume it, and
    assert that its metrics and weights equal the uninterrupted run `ref`'s."""
    import signal
    import sys
    from safetensors.torch import load_file
    from seqgan import checkpoint as ckpt
    from seqgan.cli import main
    proc = subprocess.Popen([sys.executable, "-m", "seqgan", "train", "--config", str(cfg), "--out", str(out), "-q",
                             *[a for s in sets for a in ("--set", s)]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for_phase(proc, out, "adversarial")
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "summary.json").exists(), "the run finished before the kill; nothing was tested"
    assert ckpt.list_checkpoints(out)
    assert main(["train", "--resume", str(out), "-q"]) == 0
    assert metrics_without_timing(out) == metrics_without_timing(ref)
    for name in weight_files:
        wa, wb = load_file(str(out / name)), load_file(str(ref / name))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), name


def torchrun_worker(worker: str, *args: str, nproc: int = 2) -> tuple[Any, dict[str, torch.Tensor]]:
    """Run tests/<worker>.py under torchrun (gloo, `nproc` CPU processes, one thread each) with an output
    file as its first argument; returns (the worker module, imported here for its fixed problem and
    reference steps, the tensors it wrote). Fails the test with the workers' stderr on a non-zero exit."""
    import importlib
    import os
    import sys
    import tempfile

    from safetensors.torch import load_file
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    try:
        module = importlib.import_module(worker)
    finally:
        sys.path.remove(str(here))
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "d.safetensors"
        r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
                            str(here / f"{worker}.py"), str(out), *args], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
        assert r.returncode == 0, r.stderr[-3000:]
        return module, load_file(str(out))


def train_finite(cfg: Path, out: Path, method: str, sets: list[str]) -> dict[str, Any]:
    """Train `method` with `sets` into `out` (the reference run of a resume test) and assert that it ran
    that method with a finite NLL-oracle at every evaluation; returns its summary.json."""
    import math
    assert train_cli(cfg, out, *sets) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == method and all(math.isfinite(v) for ph in s["nll_oracle"].values() for _, v in ph)
    return s


def one_token_generator(token: int = 4, vocab_size: int = 7, seq_len: int = 5) -> Any:
    """An LSTM generator (emb 3, hidden 4) that emits `token` after anything (its output weights zero,
    that token's bias 60): the tests that need to know what a generator draws."""
    from seqgan.config import GeneratorConfig
    from seqgan.models import build_generator
    gen = build_generator(GeneratorConfig(vocab_size=vocab_size, emb_dim=3, hidden_dim=4, seq_len=seq_len),
                          torch.Generator().manual_seed(0))
    with torch.no_grad():
        gen.W_out.zero_()
        gen.b_out.zero_()
        gen.b_out[token] = 60.0
    return gen
