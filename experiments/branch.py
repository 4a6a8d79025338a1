"""Continue a run's checkpoint under another config: ablations from one pre-trained state.

    python experiments/branch.py --from RUN_DIR [--checkpoint NAME] --out NEW_DIR \
        [--preset P | --config FILE] [--set KEY=VALUE ...]

The new run starts from the chosen checkpoint of RUN_DIR (default: the newest) with every
model, optimizer and random stream as saved there, and its logs and wall time so far, then
runs the rest of the schedule under the new config. Sizes of the oracle, generator and data
must match (the oracle path and seed are taken from RUN_DIR). A checkpoint taken at the end
of MLE (phase `discriminator`, step 0) may also change the discriminator: it is built and
initialised from the new config as a fresh run would do. The result is the run that the new
config would have made had it shared RUN_DIR's schedule up to the checkpoint, so variants
branched from one checkpoint differ only in what comes after it.

This is an experiment tool (not part of the package's interface): it uses the training
loop's internals.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

from seqgan import checkpoint as ckpt
from seqgan.config import ConfigError, absolute_paths, load_config, to_dict
from seqgan.models import Discriminator
from seqgan.train.run import STREAM_DISCRIMINATOR_INIT, make_adam, stream_seed, train


def fresh_discriminator(cfg, resume: ckpt.Checkpoint) -> None:
    """Replace the checkpoint's discriminator and its optimizer by a fresh one of `cfg`."""
    disc = Discriminator(cfg.discriminator, cfg.generator.vocab_size, cfg.generator.seq_len,
                         torch.Generator().manual_seed(stream_seed(cfg.seed, STREAM_DISCRIMINATOR_INIT)))
    t = {k: v for k, v in resume.tensors.items()
         if not k.startswith("discriminator.") and not k.startswith("optim.discriminator.")}
    t.update({f"discriminator.{k}": v for k, v in disc.state_dict().items()})
    resume.state["optimizers"]["discriminator"] = ckpt.optimizer_to_flat(
        "discriminator", make_adam(disc, cfg.discriminator.lr), t)
    resume.tensors = t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="src", required=True, metavar="RUN_DIR")
    p.add_argument("--checkpoint", help="checkpoint directory name under RUN_DIR/checkpoints (default: newest)")
    p.add_argument("--out", required=True)
    p.add_argument("--preset")
    p.add_argument("--config")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    src, out = Path(args.src), Path(args.out)
    saved = load_config(str(src / "config.yaml"))
    source = args.config or args.preset or str(src / "config.yaml")
    overrides = [f"seed={saved.seed}", f"oracle.seed={saved.oracle.seed}"] + (
        [f"oracle.path={saved.oracle.path}"] if saved.oracle.path else [])
    cfg = absolute_paths(load_config(source, overrides + args.set))
    if args.checkpoint:
        resume = ckpt.load(ckpt.checkpoint_dir(src) / args.checkpoint)
    else:
        latest = ckpt.latest_valid(src)
        if latest is None:
            raise SystemExit(f"{src}: no valid checkpoint")
        resume = latest
    st = resume.state["train_state"]
    for key in ("oracle", "generator", "task", "data"):
        if to_dict(cfg)[key] != to_dict(saved)[key]:
            raise SystemExit(f"{key} differs from {src}'s; a branch keeps the data and the generator")
    if (st["phase"], st["step"]) == ("discriminator", 0):
        fresh_discriminator(cfg, resume)
    else:
        arch = ("emb_dim", "filter_sizes", "num_filters", "filter_scale")
        new_d, old_d = to_dict(cfg)["discriminator"], to_dict(saved)["discriminator"]
        if any(new_d.get(k) != old_d.get(k) for k in arch):
            raise SystemExit("the discriminator's shape can change only when branching from the end of MLE")
    if out.exists():
        raise SystemExit(f"{out} exists")
    out.mkdir(parents=True)
    for name in ("metrics.jsonl", "experiment-log.txt", "real_data.txt"):
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    if (src / "generator_mle.safetensors").exists():
        shutil.copy(src / "generator_mle.safetensors", out / "generator_mle.safetensors")
    resume.state["config"] = to_dict(cfg)
    # the optimizers' saved learning rates give way to the new config's
    lrs = {"mle": cfg.pretrain.generator_lr, "discriminator": cfg.discriminator.lr, "pg": cfg.adversarial.generator_lr}
    for name, lr in lrs.items():
        for group in resume.state["optimizers"].get(name, {}).get("param_groups", []):
            group["lr"] = lr
    print(f"branch of {resume.path} (phase {st['phase']}, step {st['step']}, "
          f"{resume.state['elapsed_s']:.0f} s) -> {out}", file=sys.stderr)
    try:
        train(cfg, out, quiet=args.quiet, resume=resume)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
