"""A small Python API over run directories.

    import seqgan
    gen = seqgan.load("runs/quick__0__20261128-120000")
    samples = gen.sample(5, seed=1)          # (5, T) int64 token ids
    gen.config                               # the run's Config
    gen.vocab                                # task=data: the Vocabulary (decode_text(row) -> str); else None
    seqgan.evaluate_run("runs/coco__0__...")  # the metrics table of `seqgan evaluate`
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from seqgan import checkpoint as ckpt
from seqgan.config import Config, ConfigError, Sizes, load_run_config, load_run_sizes
from seqgan.data import DataError, Vocabulary, encode_file
from seqgan.files import check_weight_sum
from seqgan.metrics import EVAL_SEED, References, text_metrics
from seqgan.models import OracleFileError, build_oracle
from seqgan.policies import Policy


class RunLoadError(RuntimeError):
    """The run directory or its weights cannot be loaded."""


def load(run_dir: str | Path, checkpoint: Optional[str | Path] = None, device: str = "cpu",
         mle: bool = False, mle_best: bool = False) -> Policy:
    """The generator of a run: its final weights, else its newest valid checkpoint; with
    `mle`, the generator as it was at the end of MLE pre-training (generator_mle.safetensors);
    with `mle_best`, the MLE epoch pretrain.select=best_valid chose (generator_mle_best.safetensors).

    Returns the generator (a `seqgan.policies.Policy` of the run's `generator.kind`, or its
    method's own: LeakGAN's, with the discriminator it reads restored from the same source) in
    eval mode with `.config` (the run's Config) and `.vocab` (None for oracle runs) attached. Weights
    are read with safetensors only, never pickle; the caller's random streams are not touched.
    """
    run_dir = Path(run_dir)
    try:
        cfg = load_run_config(run_dir)
        sizes = load_run_sizes(run_dir)
    except ConfigError as e:
        raise RunLoadError(str(e)) from None
    # where the weights come from: state(prefix) -> the module's tensors ('generator', and the
    # models the generator reads, `Policy.companions`: LeakGAN's 'discriminator')
    state: Callable[[str], dict[str, torch.Tensor]]
    if checkpoint is not None:
        try:
            chk = ckpt.load(Path(checkpoint))
        except ckpt.CheckpointError as e:
            raise RunLoadError(str(e)) from None
        state, source = chk.module_state, f"checkpoint {Path(checkpoint).name}"
    elif mle or mle_best or (run_dir / "generator.safetensors").is_file():
        best = run_dir / "generator_mle_best.safetensors"
        if mle_best and not best.is_file() and cfg.pretrain.select != "best_valid":
            raise RunLoadError(f"{best}: not found; the run was made with pretrain.select={cfg.pretrain.select}, "
                               "which keeps only the last MLE epoch's generator (--mle); train with "
                               "--set pretrain.select=best_valid to keep the best-valid one")

        def state(prefix: str) -> dict[str, torch.Tensor]:
            # the best MLE epoch keeps only the generator; the models it reads are the end of MLE's
            suffix = "_mle_best" if mle_best and prefix == "generator" else "_mle" if mle or mle_best else ""
            return _weights_file(run_dir / f"{prefix}{suffix}.safetensors")

        source = "generator_mle_best.safetensors" if mle_best else "generator_mle.safetensors" if mle \
            else "generator.safetensors"
    else:
        latest = ckpt.latest_valid(run_dir)
        if latest is None:
            raise RunLoadError(f"{run_dir}: no generator.safetensors and no valid checkpoint")
        state, source = latest.module_state, f"checkpoint {latest.path.name} (the newest; no final weights yet)"
    from seqgan import methods as registry
    gen = registry.build_generator(cfg, sizes, torch.Generator().manual_seed(0))  # an init that the weights replace
    for prefix, module in {"generator": gen, **gen.companions()}.items():
        try:
            tensors = state(prefix)
        except ckpt.CheckpointError as e:
            raise RunLoadError(str(e)) from None
        bad = next((k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())),
                   None)
        if bad is not None:
            raise RunLoadError(f"{run_dir}: tensor '{bad}' of {source} holds NaN or inf (damaged or diverged "
                               "weights); restore the file or load an earlier checkpoint (checkpoint=...)")
        try:
            module.load_state_dict(tensors)
        except RuntimeError as e:
            raise RunLoadError(f"{run_dir}: the weights do not fit the run's config ({e})") from None
        module.eval()
    vocab = None
    if cfg.task == "data":
        try:
            vocab = Vocabulary.load(run_dir / "vocab.json")
        except (OSError, DataError) as e:
            raise RunLoadError(f"{run_dir / 'vocab.json'}: cannot read the run's vocabulary ({e})") from None
    setattr(gen, "config", cfg)  # the run's Config, for callers
    setattr(gen, "sizes", sizes)  # its vocabulary size, length, start and end tokens
    setattr(gen, "vocab", vocab)  # oracle runs have no vocabulary
    setattr(gen, "source", source)  # where the weights came from
    return gen.to(device).eval()


def _weights_file(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a run's weights file, checked against weights.sha256."""
    if not path.is_file():
        if path.name.endswith("_mle.safetensors"):
            raise RunLoadError(f"{path}: not found; the run has not finished MLE pre-training")
        raise RunLoadError(f"{path}: not found")
    problem = check_weight_sum(path)
    if problem:
        raise RunLoadError(problem)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise RunLoadError(f"{path}: not a valid safetensors file ({e})") from None


@dataclass
class RunInputs:
    """What a run's generator is scored against: the oracle and its held-out sequences (oracle
    task), or the encoded test and validation files and the BLEU references (task=data)."""

    oracle: Any = None
    heldout: Optional[torch.Tensor] = None
    references: Optional[References] = None
    test_ids: Optional[torch.Tensor] = None
    valid_ids: Optional[torch.Tensor] = None
    test: Optional[str] = None


def run_inputs(run_dir: str | Path, cfg: Config, vocab: Optional[Vocabulary], test: Optional[str] = None,
               device: str = "cpu", sizes: Optional[Sizes] = None) -> RunInputs:
    """The run's oracle and held-out oracle sequences (the same as in training), or its test and
    validation files encoded with its vocabulary (`test` replaces the run's test file)."""
    if cfg.task == "oracle":
        from seqgan.train.run import HELDOUT_SEED, STREAM_HELDOUT, make_rng
        try:
            oracle = build_oracle(cfg).to(device)
        except (ConfigError, OracleFileError, OSError) as e:
            raise RunLoadError(f"{run_dir}: cannot rebuild the run's oracle: {e}") from None
        heldout = None
        if cfg.oracle.test_samples > 0:
            heldout = oracle.sample(
                cfg.oracle.test_samples, make_rng(HELDOUT_SEED, STREAM_HELDOUT, torch.device(device))
            )
        return RunInputs(oracle=oracle, heldout=heldout)
    assert vocab is not None
    test = test or cfg.data.test
    sizes = sizes or load_run_sizes(run_dir)
    data = cfg.data.model_copy(update={"max_len": sizes.seq_len - 1})  # the length the run trained on
    try:
        test_set = encode_file(test, vocab, data, "--test" if test != cfg.data.test else "data.test") \
            if test else None
        valid_set = encode_file(cfg.data.valid, vocab, data, "data.valid") if cfg.data.valid else None
    except DataError as e:
        raise RunLoadError(str(e)) from None
    return RunInputs(references=References(test_set.references, 5) if test_set is not None else None,
                     test_ids=None if test_set is None else test_set.ids.to(device),
                     valid_ids=None if valid_set is None else valid_set.ids.to(device), test=test)


def is_smiles_run(cfg: Config) -> bool:
    """A run on molecules: task=data with the smiles tokenizer."""
    return cfg.task == "data" and cfg.data.tokenizer == "smiles"


def evaluate_run(run_dir: str | Path, test: Optional[str] = None, num_samples: Optional[int] = None,
                 checkpoint: Optional[str | Path] = None, seed: int = EVAL_SEED, device: str = "cpu",
                 mle: bool = False, mle_best: bool = False, chem: Optional[bool] = None,
                 scaffold_test: Optional[str] = None, train: Optional[str] = None, chem_samples: Optional[int] = None,
                 notes: Optional[list[str]] = None, quiet: bool = True, temperature: float = 1.0) -> dict[str, Any]:
    """The metrics table of a run's generator (`seqgan evaluate`).

    task=data: nll_test on `test` (default the run's data.test), nll_valid (the run's
    data.valid, if any), BLEU-2..5 of `num_samples` samples (default eval.bleu_samples)
    against the test file, Self-BLEU-2..5, mean sample length. Oracle task: nll_oracle of
    `num_samples` (default train.eval_samples) samples, with the run's oracle, and nll_test of
    the run's held-out oracle sequences. `mle`: score the generator saved at the end of MLE
    pre-training instead of the final one; `mle_best`, the MLE epoch pretrain.select=best_valid chose.
    Samples are drawn from a fresh stream seeded `seed`. The table opens with `generator` ("final",
    "mle", "mle_best" or "checkpoint": which one was scored) and `weights` (the file or checkpoint it
    was read from), then the draw: `samples`, `seed` and `temperature`.

    `temperature` T: every sample is drawn from softmax(logits / T) and every NLL of held-out
    sequences (nll_test, nll_valid) is the tempered model's, as `seqgan sweep` computes them at T,
    so that a generator can be set beside another sampled at a lower temperature on every metric.

    task=data: training's evaluations draw the same way (eval.bleu_samples samples, a fresh
    stream seeded `EVAL_SEED` = 0), so with the defaults and the run's device the table equals
    the run's last evaluation in summary.json (and, with `mle`, its last MLE evaluation in
    metrics.jsonl). Oracle task: training's NLL-oracle draws continue the run's own eval stream
    (on every rank); this is another draw of the same size, so the two differ by sampling noise.

    Molecules (`chem`; None: when the run uses the smiles tokenizer; needs `pip install
    'seqgan[chem]'`): the MOSES metrics of `chem_samples` samples (default eval.chem_samples),
    drawn from their own stream seeded `seed`, as SMILES (`seqgan.chem.metrics.molecule_metrics`):
    novelty against `train` (default the run's data.train, the whole file), FCD, SNN, Frag and Scaf
    against `test` and, when given, `scaffold_test` (the *_testsf keys). The reference statistics
    are cached (`seqgan.chem.metrics.cache_dir()`). `notes` collects a line for each metric left out.
    """
    from seqgan.sweep import check_temperature
    temperature = check_temperature(temperature)  # SweepError (a ValueError), one line, before any loading
    gen = load(run_dir, checkpoint, device, mle, mle_best)
    cfg: Config = getattr(gen, "config")
    source: str = getattr(gen, "source")
    if test and cfg.task == "oracle":
        raise RunLoadError(f"--test {test}: {run_dir} is an oracle run, scored on held-out oracle sequences "
                           "(NLL-test) and its oracle (NLL-oracle); --test is for runs on your data")
    # which generator was scored: the MLE baseline, the final one, or a checkpoint's
    stage = "mle_best" if mle_best else "mle" if mle else "checkpoint" if source.startswith("checkpoint") else "final"
    scored = {"generator": stage, "weights": source}
    n = num_samples or (cfg.train.eval_samples if cfg.task == "oracle" else cfg.eval.bleu_samples)
    from seqgan.memory import check_samples
    problem = check_samples(n, getattr(gen, "sizes"), cfg.task, "-n", torch.device(device).type)
    if problem:  # before any sampling
        raise RunLoadError(problem)
    rng = torch.Generator(device=device).manual_seed(seed)
    inputs = run_inputs(run_dir, cfg, getattr(gen, "vocab"), test, device, getattr(gen, "sizes"))
    if cfg.task == "oracle":
        table: dict[str, Any] = {**scored, "samples": n, "seed": seed, "temperature": temperature,
                                 "nll_oracle": inputs.oracle.nll(gen.sample(n, rng, temperature=temperature))}
        if inputs.heldout is not None:
            table["nll_test"] = gen.nll(inputs.heldout, temperature=temperature)
        return table
    vocab: Vocabulary = getattr(gen, "vocab")
    want_chem = chem or (chem is None and is_smiles_run(cfg))
    if want_chem:  # say what is missing before any work
        from seqgan.chem.metrics import require
        require(fcd=bool(inputs.test or scaffold_test))
    table = {**scored, "samples": n, "seed": seed, "temperature": temperature}
    if inputs.test:
        table["test"] = str(inputs.test)
    table.update(text_metrics(gen, vocab.decode, n, rng, inputs.references, inputs.test_ids, inputs.valid_ids,
                              temperature=temperature))
    if want_chem:
        table.update(chem_metrics(gen, vocab, cfg, seed, device, inputs.test, scaffold_test, train, chem_samples,
                                  notes, quiet, temperature))
    return table


def chem_metrics(gen: Policy, vocab: Vocabulary, cfg: Config, seed: int, device: str, test: Optional[str],
                 scaffold_test: Optional[str], train: Optional[str], chem_samples: Optional[int],
                 notes: Optional[list[str]], quiet: bool, temperature: float = 1.0) -> dict[str, Any]:
    """The MOSES metrics of a run's samples, drawn at `temperature` (see `evaluate_run`)."""
    from seqgan.chem import metrics as chem
    refs = {"test": test, "scaffold_test": scaffold_test}
    chem.require(fcd=any(refs.values()))
    train = train or cfg.data.train
    train_set = chem.read_train_set(train, "--train" if train != cfg.data.train else "data.train") if train else None
    loaded = {k: chem.reference(p, "--test" if k == "test" else "--scaffold-test", cache=chem.cache_dir(),
                                quiet=quiet) if p else None for k, p in refs.items()}
    n = chem_samples or cfg.eval.chem_samples
    rng = torch.Generator(device=device).manual_seed(seed)
    smiles = [vocab.decode_text(row) for row in gen.sample(n, rng, temperature=temperature).tolist()]
    table: dict[str, Any] = {}
    if train:
        table["train"] = str(train)
    if scaffold_test:
        table["scaffold_test"] = str(scaffold_test)
    progress = None if quiet else (lambda what: print(f"seqgan evaluate: {what}...", file=sys.stderr))
    table.update(chem.molecule_metrics(smiles, loaded["test"], loaded["scaffold_test"], train_set,
                                       fcd=any(refs.values()), notes=notes, progress=progress))
    return table
