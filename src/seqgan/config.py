"""Configuration: nested pydantic models loaded from YAML, changed by dotted overrides, validated.

pydantic (strict: no string-to-number coercion, no bool for an int; unknown keys refused)
checks every value against its annotation; the errors are turned into one line naming the
YAML file and line (or the --set) and the key. Cross-field and range checks are `validate`,
run as the model's validator, all reported together. Every field carries an attribute
docstring; `describe()` turns them into the config reference printed by `seqgan config
--list` and by the docs site's configuration reference (docs/reference/config.md, generated
when the site is built).

A config holds what the user chose. What a run derives from it (on your data, the
vocabulary size and the sequence length) is a separate `Sizes`, saved as the run's sizes.json.

    cfg = load_config("quick", overrides=["adversarial.rollout_num=4"])

A preset name (`paper`, `quick`) resolves to `seqgan/presets/<name>.yaml`; anything
else is read as a YAML file path. Errors are `ConfigError`, whose message names the
file, the line, the key and what to change.
"""

from __future__ import annotations

import difflib
import math
import reprlib
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional

import yaml
from pydantic import Field, ValidationError, create_model, model_validator

from seqgan import methods as registry
from seqgan.section import ConfigError, Section

PAPER_FILTER_SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
PAPER_NUM_FILTERS = [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160]


class OracleConfig(Section):
    path: Optional[str] = None
    """.npz with the original's oracle parameters (key layout of seqgan_oracle.md); null: a seeded N(0,1) oracle."""
    seed: int = 0
    """Seed of the built-in oracle's N(0, init_std) parameters (ignored when `path` is set)."""
    num_samples: int = 9984
    """Oracle sequences used as the real data (the original requests 10,000 and keeps 156 batches of 64 = 9,984)."""
    emb_dim: int = 32
    """Oracle embedding size."""
    hidden_dim: int = 32
    """Oracle LSTM hidden size."""
    init_std: float = 1.0
    """Std of the built-in oracle's normal init (the original: 1.0)."""
    test_samples: int = 9984
    """Held-out oracle sequences for NLL-test (the generator's NLL of sequences it never trained on), drawn from a
    stream of their own, the same for every run seed; 0: no NLL-test."""


class DataConfig(Section):
    train: Optional[str] = None
    """Training file, one sequence per line, UTF-8, plain or gzip-compressed (.gz) like every data file (task=data;
    `seqgan train --data FILE`)."""
    valid: Optional[str] = None
    """Optional validation file (NLL-valid during training)."""
    test: Optional[str] = None
    """Optional held-out file: NLL-test and the BLEU references (never the training file)."""
    tokenizer: Literal["word", "char", "space", "smiles"] = "word"
    """'word' (words and punctuation marks), 'char' (one token per character, e.g. Chinese), 'space'
    (pre-tokenised text split on whitespace, e.g. music pitch numbers) or 'smiles' (molecules: bracket atoms [..],
    Br, Cl and %nn ring bonds are single tokens, every other character its own; decoded without spaces)."""
    lowercase: bool = True
    """word tokenizer: lower-case the text."""
    split_punctuation: bool = True
    """word tokenizer: punctuation marks are tokens of their own ('wheel.' -> 'wheel', '.'); false splits on
    whitespace only."""
    min_freq: int = 1
    """Training-set tokens seen fewer times map to <unk>."""
    max_vocab: int = 0
    """At most this many ids, the 4 specials (<pad> <bos> <eos> <unk>) included; the rarest tokens beyond it map
    to <unk> and their share is reported (0: no limit)."""
    max_len: int = 0
    """Longest sequence in tokens, <eos> not counted (0: the longest training line). Models run on
    max_len + 1 positions."""
    subsample: int = 0
    """Train on this many of the training file's non-blank lines, a uniform sample without replacement drawn with
    data.subsample_seed and kept in file order (0: every line). Held-out files are never subsampled."""
    subsample_seed: int = 0
    """Seed of data.subsample's draw (its own, so that runs of different seeds train on the same lines)."""
    overlong: Literal["drop", "truncate", "error"] = "drop"
    """Lines longer than max_len: 'drop' them, 'truncate' them (first max_len tokens, then <eos>), or 'error'
    (names the line). The count is reported either way."""
    max_drop: float = 0.5
    """overlong=drop: the largest share of the training lines that may be dropped; a run that would drop more is
    refused before anything is written (the message names the file, the share and the fixes: data.max_len, or
    overlong=truncate), so a preset's max_len meant for other data (coco's 24) does not train on a small
    remainder of yours. 1: never refused. Drops of 10% or more are warned about either way."""


class EvalConfig(Section):
    bleu_samples: int = 2000
    """task=data: generated sentences scored by BLEU-2..5 against the whole test file and by Self-BLEU-2..5
    against each other, every `train.eval_every` (and by `seqgan evaluate`). Each evaluation draws them from a
    fresh stream seeded 0, as `seqgan evaluate` does by default: the same generator gives the same numbers in
    summary.json, `seqgan compare` and `seqgan evaluate` (on the run's device)."""
    chem_samples: int = 30000
    """Molecules (SMILES runs): samples drawn by `seqgan evaluate` for the MOSES metrics (validity, unique@k,
    novelty, FCD, SNN, Frag, Scaf, IntDiv, Filters, property means; needs `pip install 'seqgan[chem]'`); MOSES
    draws 30,000."""


class GeneratorConfig(Section):
    kind: Literal["lstm", "gru", "transformer", "rmc"] = "lstm"
    """The policy: 'lstm' (the paper's), 'gru', 'transformer' (decoder-only, causal, KV-cached; emb_dim is its
    width, hidden_dim its MLP width, with num_layers and num_heads) or 'rmc' (RelGAN's relational memory,
    seqgan/policies/rmc.py: emb_dim its input embedding, mem_slots slots of num_heads x head_size units; hidden_dim,
    num_layers and init_std do not apply, its init is the authors' fan-in truncated normal)."""
    vocab_size: int = 5000
    """Oracle task: number of tokens (ids 0..vocab_size-1), shared by oracle, generator and discriminator
    (task=data: ignored, the vocabulary decides; the run's sizes.json has it)."""
    emb_dim: int = 32
    """Generator embedding size."""
    hidden_dim: int = 32
    """Generator LSTM / GRU hidden size; the Transformer's MLP width."""
    num_layers: int = 2
    """Transformer layers (kind=transformer)."""
    num_heads: int = 2
    """Attention heads: the Transformer's (emb_dim must be a multiple) or the relational memory's (kind=rmc:
    RelGAN's 2)."""
    mem_slots: int = 1
    """kind=rmc: memory slots (RelGAN's 1); the features that score the next token are all slots, mem_slots x
    num_heads x head_size."""
    head_size: int = 256
    """kind=rmc: units per attention head, also the key size (RelGAN's oracle and COCO scripts: 256, so the memory
    is 2 x 256 = 512 wide)."""
    seq_len: int = 20
    """Oracle task: length of every sequence (task=data: ignored, data.max_len + 1 positions, the longest
    sequence with its <eos>; the run's sizes.json has it)."""
    init_std: float = 0.1
    """Std of the normal init of every generator parameter, biases and embedding too (the original: 0.1)."""
    start_token: int = 0
    """Token whose embedding is the first input (oracle: token 0, also an ordinary token; task=data: always <bos>)."""


class DiscriminatorConfig(Section):
    emb_dim: int = 64
    """Discriminator embedding size (init U(-1, 1))."""
    filter_sizes: Optional[list[int]] = None
    """Convolution widths in tokens, each <= the sequence length; null: derived from the length by the paper's
    rule (`paper_filters`: length 20 gives 1..10, 15, 20; length 32 gives 1..10, 16, 24, 32)."""
    num_filters: Optional[list[int]] = None
    """Number of filters per width (same length as filter_sizes); null with filter_sizes null."""
    filter_scale: float = 1.0
    """Multiplies every width's number of filters (rounded, at least 1): 1.0 is the paper's 1,720-filter
    discriminator; 0.25 a named smaller one with a quarter of the filters (a departure)."""
    dropout_keep: float = 0.75
    """Keep probability of the dropout before the output layer during training (none when scoring)."""
    l2: float = 0.2
    """Weight of the L2 penalty sum(W^2)/2 + sum(b^2)/2 on the output layer only."""
    lr: float = 1e-4
    """Adam learning rate of the discriminator."""
    label_smoothing: float = 0.0
    """One-sided label smoothing: real sequences are trained towards p(real) = 1 - this (0: none, the paper)."""
    negatives: Literal["round", "fresh"] = "round"
    """'round' (the original): each round samples its negatives once and reuses them for every epoch; 'fresh':
    every epoch of a round samples new negatives, so no generated sequence is seen twice (a departure)."""


class PretrainConfig(Section):
    generator_epochs: int = 120
    """MLE epochs over the real data (the paper: 120; the 2016 code: 240)."""
    generator_lr: float = 0.01
    """Adam learning rate of MLE pre-training."""
    discriminator_rounds: int = 50
    """Discriminator pre-training rounds, each with fresh generator negatives."""
    discriminator_epochs: int = 3
    """Passes over (real + negatives) per discriminator round."""
    discriminator_samples: int = 0
    """Real and fresh negative sequences per pre-training round (0: all the real data, as the original)."""
    select: Literal["last", "best_valid"] = "last"
    """Which MLE generator the run keeps and the later phases start from: 'last' (the last epoch's, the paper and
    the original) or 'best_valid' (the epoch with the lowest NLL on a selection set, scored after every epoch:
    data.valid; without it a seeded `pretrain.valid_share` of the training lines, held out and never trained on;
    on the oracle task valid_share x oracle.num_samples fresh oracle sequences of a stream of their own, the same
    for every run seed and not NLL-test's). generator_mle.safetensors is the last epoch's either way;
    best_valid also writes generator_mle_best.safetensors (`seqgan evaluate --mle-best`)."""
    valid_share: float = 0.1
    """pretrain.select=best_valid without data.valid: the share of the training lines held out to select on (on
    the oracle task: fresh oracle sequences, this share of oracle.num_samples)."""


class AdversarialConfig(Section):
    iterations: int = 200
    """Adversarial iterations (the paper: 200; the 2016 code: 800)."""
    generator_steps: int = 1
    """Policy-gradient steps per iteration (g-steps), each on one fresh batch."""
    generator_lr: float = 0.01
    """Learning rate of the separate Adam used for the policy gradient."""
    discriminator_rounds: int = 5
    """Discriminator rounds per iteration (d-steps), each with fresh negatives."""
    discriminator_epochs: int = 3
    """Passes over (real + negatives) per d-step (k)."""
    discriminator_samples: int = 0
    """Real and fresh negative sequences per d-step (0: all the real data, as the original)."""
    rollout_num: int = 16
    """Monte Carlo rollouts N per prefix."""
    rollout_update_rate: Optional[float] = None
    """Departure from the original: null rolls out with the current generator (paper and original);
    a rate r in (0, 1] keeps a copy made at the start of the adversarial phase and moved after each
    g-step as theta_roll <- r * theta_roll + (1 - r) * theta (the embedding always follows the
    generator, as in the original's ROLLOUT class); r = 1 freezes it."""
    reward_baseline: Literal["none", "mean"] = "none"
    """'none' (faithful) or 'mean': subtract the batch mean of Q at each time step."""
    reward_norm: Literal["none", "std"] = "none"
    """'none' (faithful) or 'std': divide Q (after the baseline) by its standard deviation over the batch at each
    time step, so that every position's rewards carry the same weight whatever D's confidence (a departure)."""
    batch_size: int = 0
    """Sequences sampled and rolled out per g-step (0: train.batch_size, as the original)."""
    loss_reduction: Literal["sum", "mean"] = "sum"
    """'sum' over batch and time (faithful) or 'mean' (divides by B*T)."""
    score_chunk: int = 0
    """Completions scored by the discriminator per forward pass (caps rollout memory). 0: sized by the device,
    4096 on a CPU, on CUDA as many as fit in a quarter of the free GPU memory (one pass per generator step)."""
    score_tables: bool = True
    """Score completions through per-(token, offset) tables of the first layer, shared by all of them
    (exact, about 4x less convolution time); false: plain convolutions."""


class RewardConfig(Section):
    kind: Literal["discriminator", "constant", "random"] = "discriminator"
    """What scores a completion in the policy-gradient methods that use a discriminator's score (seqgan, maligan,
    rankgan): 'discriminator' (the method's own); the controls 'constant' (every completion gets reward.constant)
    and 'random' (uniform noise in [0, 1), mean 0.5, drawn from the run's stream): the method's loop with the
    discriminator's score replaced, and no discriminator trained (LantaoYu/SeqGAN#21). A GAN that does not beat
    its controls has not shown that its discriminator helps."""
    constant: float = 0.5
    """The reward of every completion with kind=constant (0.5: the random control's mean)."""
    objective: Optional[str] = None
    """Your own scoring function as (part of) the reward (ORGAN, Guimaraes et al. 2017; docs/guides/rewards.md):
    'module:function' (an importable module), or 'path/to/file.py:function' (':function' may be left out for a
    function named 'score'). It receives the distinct completed sequences of a reward call as one list (strings on
    your data, as `seqgan generate` prints them; lists of token ids in the oracle task) and returns one number
    each; loaded once when the run starts. null: no objective."""
    mix: float = 1.0
    """ORGAN's lambda: the reward is mix * critic + (1 - mix) * objective, the critic being the method's own
    (discriminator, BLEU for pg_bleu, ranker) or the reward.kind control. 1 (default): the critic alone, SeqGAN
    (a set objective is then loaded but not called, with a warning); 0: the objective alone, and no discriminator
    is built or trained. Below 1 needs reward.objective. maligan mixes into D's probability before its
    D / (1 - D) weight, so there the objective's range must lie in [0, 1]."""
    objective_range: list[float] = Field(default_factory=lambda: [0.0, 1.0])
    """[low, high]: every score the objective returns must lie in it, or the run stops naming the sequence."""
    duplicate_penalty: Literal["organ", "count", "none"] = "organ"
    """ORGAN's penalty on repeated sequences, applied to the objective's score (not the critic's), counted within
    each batch the reward is called on: the g-step's sampled batch (the last position's reward, and MaliGAN's),
    and each rollout column (the completions of one prefix length by one rollout, one per sampled sequence).
    'organ' (ORGAN's code, gablg1/ORGAN): score * (the batch's share of distinct sequences) / (the sequence's count
    in it); 'count': score / count, the penalty as the issue and the paper's summaries word it (the paper itself
    was not read here); 'none'."""


class TrainConfig(Section):
    batch_size: int = 64
    """Batch size of every phase (the original: 64)."""
    grad_clip: float = 5.0
    """Global-norm gradient clip of the generator (MLE and PG)."""
    eval_every: int = 5
    """Evaluate every this many MLE epochs / adversarial iterations (and at each phase's end): NLL-oracle, or
    for task=data NLL-test/valid, BLEU and Self-BLEU."""
    eval_samples: int = 9984
    """Generator samples scored by the oracle per NLL-oracle evaluation (the original: 9,984)."""
    threads: int = 0
    """CPU threads for torch (0: torch's default, one per core)."""
    checkpoint_every: int = 5
    """Checkpoint every this many MLE epochs / D rounds / adversarial iterations
    (0: only at phase ends and on SIGINT/SIGTERM)."""
    keep_checkpoints: int = 2
    """How many of the newest checkpoints to keep in <run>/checkpoints."""
    tensorboard: bool = True
    """Also write TensorBoard scalars to <run>/tensorboard when the `tensorboard` package is installed."""
    scale_batch_with_world: bool = False
    """Under torchrun with K processes: false keeps the global batch at batch_size (each rank takes
    batch_size / K, so results mean the same at any K); true gives each rank batch_size (global K x batch_size)."""
    precision: Literal["fp32", "tf32", "bf16"] = "fp32"
    """'fp32' (the paper). 'tf32' (CUDA only): float32 matmuls and convolutions run in TF32. 'bf16' (CUDA, or a CPU
    with a bfloat16 fast path: avx512_bf16 or amx_bf16): the training forward passes of the generator and
    discriminator and the discriminator's reward scoring run under bfloat16 autocast (weights, optimizer states
    and losses stay fp32). Sampling, the oracle and every NLL stay fp32."""
    compile: Literal["none", "default", "reduce-overhead"] = "none"
    """torch.compile the generator's, rollout policy's and oracle's per-token softmax work (the logits and draw of
    every sampling step; the logits and log-softmax of NLL scoring). 'default': inductor kernels; 'reduce-overhead':
    the same, with CUDA graphs on CUDA. Results equal eager up to float rounding (so not bit-identical to 'none');
    compiling takes about 30 s per process and needs a C++ compiler on CPU; a failure falls back to eager with a
    warning."""
    tune_allocator: bool = True
    """Let glibc reuse large freed buffers instead of page-faulting fresh ones (2-3x faster sampling on Linux;
    see seqgan/perf.py)."""
    diagnostics: bool = False
    """Oracle task: also log what the adversarial phase does (seqgan/diagnostics.py): at each evaluation D's mean
    probability and accuracy on its real training sequences, on the held-out oracle sequences and on fresh generator
    samples; at each g-step the rewards' spread and their rank correlation with the oracle's log-probabilities.
    Costs about 3 s per evaluation and a little per g-step."""


class _Config(Section):
    """The core sections; `Config` adds one section per registered method that has options."""

    method: str = "seqgan"
    """The algorithm, one of the registered methods (seqgan/methods/__init__.py; `seqgan train --help` lists
    them): 'seqgan' (the paper's Algorithm 1) by default. A method with
    settings of its own reads the section of its name."""
    seed: int = 0
    """Seed of every random stream of the run (generator/discriminator init, sampling, shuffling, dropout)."""
    task: Literal["oracle", "data"] = "oracle"
    """'oracle': the synthetic experiment; 'data': your sequences from data.train (set by --data)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """'auto' picks cuda when available, else cpu."""
    oracle: OracleConfig = Field(default_factory=OracleConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = Field(default_factory=DiscriminatorConfig)
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig)
    adversarial: AdversarialConfig = Field(default_factory=AdversarialConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)

    def section(self, name: str) -> Any:
        """A method's own section (`cfg.section("maligan")`)."""
        return getattr(self, name)

    @model_validator(mode="after")
    def _check(self) -> "_Config":
        errors = validate(self)  # type: ignore[arg-type]
        if errors:
            raise ValueError("; ".join(errors))
        return self


if TYPE_CHECKING:
    Config = _Config
else:
    Config = create_model(
        "Config", __base__=_Config, __doc__="The whole configuration: the core sections and each method's own.",
        **{m.name: (m.options_class(), Field(default_factory=m.options_class()))
           for m in registry.METHODS.values() if m.options is not None})


# ----------------------------------------------------------------------------- validation

#: the largest seed (torch's generators take 64 bits; 2**63-1 keeps every consumer safe)
MAX_SEED = 2**63 - 1
_POSITIVE = {
    "oracle.num_samples", "oracle.emb_dim", "oracle.hidden_dim", "generator.vocab_size",
    "generator.emb_dim", "generator.hidden_dim", "generator.num_layers", "generator.num_heads", "generator.seq_len",
    "generator.mem_slots", "generator.head_size",
    "discriminator.emb_dim",
    "adversarial.generator_steps", "adversarial.rollout_num", "discriminator.filter_scale",
    "train.batch_size", "train.eval_every", "train.eval_samples", "train.keep_checkpoints",
    "discriminator.lr", "pretrain.generator_lr", "adversarial.generator_lr", "train.grad_clip",
    "oracle.init_std", "generator.init_std", "data.min_freq", "eval.bleu_samples", "eval.chem_samples",
}
_NON_NEGATIVE = {
    "adversarial.score_chunk", "seed", "oracle.seed", "oracle.test_samples", "pretrain.generator_epochs",
    "pretrain.discriminator_rounds",
    "pretrain.discriminator_epochs", "pretrain.discriminator_samples", "adversarial.discriminator_samples",
    "adversarial.iterations", "adversarial.discriminator_rounds",
    "adversarial.discriminator_epochs", "discriminator.l2", "train.threads", "train.checkpoint_every",
    "data.max_vocab", "data.max_len", "adversarial.batch_size", "data.subsample", "data.subsample_seed",
}


def validate(cfg: Config) -> list[str]:
    """All range and cross-field problems of `cfg`, each saying what to change."""
    errs: list[str] = []
    flat = _flatten(to_dict(cfg))
    for key, value in flat.items():
        if isinstance(value, float) and not math.isfinite(value):
            errs.append(f"{key}={value} must be a finite number")
            flat[key] = 1.0  # reported once; keep the range checks below quiet
    for key in sorted(_POSITIVE):
        if flat[key] <= 0:
            errs.append(f"{key}={flat[key]} must be > 0")
    for key in sorted(_NON_NEGATIVE):
        if flat[key] < 0:
            errs.append(f"{key}={flat[key]} must be >= 0")
    for key in ("seed", "oracle.seed", "data.subsample_seed"):
        if flat[key] > MAX_SEED:
            errs.append(f"{key}={flat[key]} is too large: seeds range over 0..2**63-1")
    g, d, a = cfg.generator, cfg.discriminator, cfg.adversarial
    data_task = cfg.task == "data"
    for key in ("train", "valid", "test"):
        if not data_task and getattr(cfg.data, key):
            errs.append(f"data.{key}={getattr(cfg.data, key)} is set but task=oracle; give the training file "
                        f"with --data FILE (or --set task=data)")
    errs += _reward_problems(cfg)
    if not 0.0 <= cfg.data.max_drop <= 1.0:
        errs.append(f"data.max_drop={cfg.data.max_drop} must be in [0, 1] (a share of the training lines)")
    if 0 < cfg.data.max_vocab <= 4:
        errs.append(f"data.max_vocab={cfg.data.max_vocab} leaves no room beside the 4 special tokens; "
                    "use 0 (no limit) or more")
    # the length the discriminator sees: known in the oracle task, or when data.max_len is given
    length: Optional[int] = (cfg.data.max_len + 1 if cfg.data.max_len else None) if data_task else g.seq_len
    if not data_task:
        if g.seq_len < 2:
            errs.append(f"generator.seq_len={g.seq_len} must be >= 2 "
                        "(rollouts complete prefixes of 1..seq_len-1 tokens)")
        if not 0 <= g.start_token < g.vocab_size:
            errs.append(f"generator.start_token={g.start_token} must be in [0, generator.vocab_size={g.vocab_size})")
    if g.kind == "transformer" and g.num_heads > 0 and g.emb_dim % g.num_heads:
        errs.append(f"generator.emb_dim={g.emb_dim} must be a multiple of generator.num_heads={g.num_heads}")
    if cfg.method not in registry.METHODS:
        errs.append(f"method={cfg.method!r}: expected one of {', '.join(registry.METHODS)}")
    for name, info in registry.METHODS.items():
        if info.options is not None:
            errs += cfg.section(name).problems(name)
    if not 0.0 <= d.label_smoothing < 1.0:
        errs.append(f"discriminator.label_smoothing={d.label_smoothing} must be in [0, 1)")
    if not 0.0 < d.dropout_keep <= 1.0:
        errs.append(f"discriminator.dropout_keep={d.dropout_keep} must be in (0, 1]")
    if (d.filter_sizes is None) != (d.num_filters is None):
        errs.append("discriminator.filter_sizes and discriminator.num_filters must both be lists or both null "
                    "(null: the paper's filters for the sequence length)")
    elif d.filter_sizes is not None and d.num_filters is not None:
        if len(d.filter_sizes) != len(d.num_filters) or not d.filter_sizes:
            errs.append(
                f"discriminator.filter_sizes ({len(d.filter_sizes)} values) and discriminator.num_filters "
                f"({len(d.num_filters)} values) must be non-empty lists of the same length"
            )
        if any(k <= 0 for k in d.filter_sizes) or any(n <= 0 for n in d.num_filters):
            errs.append("discriminator.filter_sizes and discriminator.num_filters must be positive")
        too_long = [k for k in d.filter_sizes if length is not None and k > length]
        if too_long:
            what = f"data.max_len + 1 = {length}" if data_task else f"generator.seq_len={length}"
            errs.append(
                f"discriminator.filter_sizes {too_long} are longer than the sequences ({what}): "
                f"a VALID convolution needs width <= the length; remove them or set both filter keys to null"
            )
    p = cfg.pretrain
    if not 0.0 < p.valid_share < 1.0:
        errs.append(f"pretrain.valid_share={p.valid_share} must be in (0, 1)")
    if p.select == "best_valid" and cfg.method == "scheduled_sampling":
        errs.append("pretrain.select=best_valid selects among the epochs of MLE pre-training, which method="
                    "scheduled_sampling does not have; use pretrain.select=last")
    if a.rollout_update_rate is not None and not 0.0 < a.rollout_update_rate <= 1.0:
        errs.append(f"adversarial.rollout_update_rate={a.rollout_update_rate} must be null or in (0, 1]")
    B = cfg.train.batch_size
    if not data_task:
        if cfg.oracle.num_samples < B:
            errs.append(f"oracle.num_samples={cfg.oracle.num_samples} must be >= train.batch_size={B}")
        for key, n in (("pretrain.discriminator_samples", cfg.pretrain.discriminator_samples),
                       ("adversarial.discriminator_samples", a.discriminator_samples)):
            if n > cfg.oracle.num_samples:
                errs.append(f"{key}={n} must be <= oracle.num_samples={cfg.oracle.num_samples} (0 means all)")
    for key, n in (("pretrain.discriminator_samples", cfg.pretrain.discriminator_samples),
                   ("adversarial.discriminator_samples", a.discriminator_samples)):
        if 0 < 2 * n < B:
            errs.append(f"{key}={n}: 2 x {n} sequences make no full batch of train.batch_size={B}")
    return errs


def _reward_problems(cfg: Config) -> list[str]:
    """The `reward` section's ranges and its objective's name (syntax only: nothing is imported here)."""
    from seqgan.objective import parse_objective
    r = cfg.reward
    errs: list[str] = []
    if math.isfinite(r.mix) and not 0.0 <= r.mix <= 1.0:  # not finite: reported with every float key
        errs.append(f"reward.mix={r.mix} must be in [0, 1] (1: the critic alone, SeqGAN; 0: the objective alone)")
    if r.objective is not None:
        try:
            parse_objective(r.objective)
        except ConfigError as e:
            errs.append(str(e))
    elif r.mix < 1.0:
        errs.append(f"reward.mix={r.mix} mixes in an objective, but reward.objective is null; name your function "
                    "(reward.objective: 'module:function' or 'path/to/file.py:function') or set reward.mix=1")
    rng = r.objective_range
    if len(rng) != 2 or not all(math.isfinite(v) for v in rng) or not rng[0] < rng[1]:
        errs.append(f"reward.objective_range={rng} must be [low, high], two finite numbers with low < high")
    elif cfg.method == "maligan" and r.objective is not None and r.mix < 1.0 and not 0.0 <= rng[0] < rng[1] <= 1.0:
        errs.append(f"reward.objective_range={rng}: method=maligan mixes the objective into D's probability "
                    "(before its D / (1 - D) weight), so the range must lie in [0, 1]; rescale the function's scores")
    return errs


# ----------------------------------------------------------------------------- resolution

#: the special ids of every task=data vocabulary (seqgan.data)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


def paper_filters(length: int) -> tuple[list[int], list[int]]:
    """The paper's discriminator filters for sequences of `length` tokens: widths 1..10 with
    100, 200, 200, 200, 200, 100 x 5 filters (those <= length), then 160 filters at each of
    the long widths: round(3L/4) and L for 10 < L <= 20 (L = 20: 15, 20, the paper), and
    L/2, 3L/4, L for L > 20 (L = 32: 16, 24, 32, the paper's rule for length 32)."""
    small = [(k, n) for k, n in zip(PAPER_FILTER_SIZES[:10], PAPER_NUM_FILTERS[:10]) if k <= length]
    if length <= 10:
        long: list[int] = []
    elif length <= 20:
        long = [round(3 * length / 4), length]
    else:
        long = [length // 2, (3 * length) // 4, length]
    long = sorted({k for k in long if k > 10})
    return [k for k, _ in small] + long, [n for _, n in small] + [160] * len(long)


@dataclass(frozen=True)
class Sizes:
    """What a run derives from its config and data: the models' vocabulary and sequence length,
    and the start and end tokens (no end token: fixed-length sequences, the oracle task)."""

    vocab_size: int
    seq_len: int
    start_token: int = 0
    eos_token: Optional[int] = None

    @classmethod
    def of(cls, cfg: "Config", vocab_size: Optional[int] = None, max_len: Optional[int] = None) -> "Sizes":
        """The oracle task's sizes (the generator section's), or task=data's from the data: the
        vocabulary's size and max_len + 1 positions, <bos> and <eos>."""
        if cfg.task == "data":
            if vocab_size is None or max_len is None:
                raise ValueError("Sizes.of(task=data) needs the vocabulary size and max_len")
            return cls(vocab_size, max_len + 1, BOS_ID, EOS_ID)
        g = cfg.generator
        return cls(g.vocab_size, g.seq_len, g.start_token, None)

    def to_dict(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "seq_len": self.seq_len, "start_token": self.start_token,
                "eos_token": self.eos_token}


def absolute_paths(cfg: Config) -> Config:
    """`cfg` with the oracle, data and objective file paths made absolute, so that `evaluate`, `generate` and
    `--resume` work from any directory (a run's config.yaml holds them so)."""
    c = cfg.model_copy(deep=True)
    if c.reward.objective:
        from seqgan.objective import absolute_objective
        c.reward.objective = absolute_objective(c.reward.objective)
    if c.oracle.path:
        c.oracle.path = str(Path(c.oracle.path).resolve())
    for key in ("train", "valid", "test"):
        path = getattr(c.data, key)
        if path:
            setattr(c.data, key, str(Path(path).resolve()))
    return c


# ----------------------------------------------------------------------------- loading

def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _is_section(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Section)


def _describe_type(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(_describe_type(a) for a in args) + " or null"
    if origin is list:
        item = typing.get_args(tp)[0]
        return "a list of " + {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(
            item, _describe_type(item))
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _fields(cls: type) -> dict[str, Any]:
    return cls.model_fields  # type: ignore[attr-defined, no-any-return]


def _all_keys(cls: type = Config, prefix: str = "") -> list[str]:
    keys = []
    for name, f in _fields(cls).items():
        if _is_section(f.annotation):
            keys += _all_keys(f.annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _annotation(key: str) -> Any:
    """The type annotation of a dotted key (None for a section or an unknown key)."""
    cls: Any = Config
    parts = key.split(".")
    for i, part in enumerate(parts):
        f = _fields(cls).get(part)
        if f is None:
            return None
        if i == len(parts) - 1:
            return f.annotation
        cls = f.annotation
    return None


def _unknown(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, _all_keys(), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else "; valid keys: see `seqgan config --list`"
    return ConfigError(f"unknown config key '{key}'{hint}")


def _short(value: Any) -> str:
    """A bounded repr of a bad value for an error line: YAML aliases can make a small file's
    value exponentially large when printed in full."""
    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxdict, r.maxtuple, r.maxset, r.maxstring, r.maxother = 3, 6, 6, 6, 6, 60, 60
    return r.repr(value)


def _error(e: ValidationError, where: "_Where") -> ConfigError:
    """The first of pydantic's errors as one line naming the file and line (or --set) and the key."""
    err = e.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"] if not isinstance(p, int)]  # list positions belong to their key
    key = ".".join(loc)
    if err["type"] == "extra_forbidden":
        return where.wrap(_unknown(key), key)
    if err["type"] == "value_error":  # `validate`: the cross-field and range checks, all of them
        return ConfigError(str(err["ctx"]["error"]) if "ctx" in err else err["msg"])
    tp = _annotation(key)
    if _is_section(tp):
        return where.wrap(ConfigError(f"{key}: expected a mapping of {tp.__name__} keys, got {_short(err['input'])}"),
                          key)
    if tp is None:
        return where.wrap(ConfigError(f"{key}: {err['msg']}"), key)
    items = [p for p in err["loc"] if isinstance(p, int)]
    got = f"item {items[0]} = {_short(err['input'])}" if items else _short(err["input"])
    return where.wrap(ConfigError(f"{key}: got {got}, expected {_describe_type(tp)}"), key)


class _Where:
    """Maps dotted keys to 'file:line' for error messages."""

    def __init__(self) -> None:
        self.lines: dict[str, str] = {}

    def add_yaml(self, text: str, name: str) -> None:
        seen: set[int] = set()  # an alias is the node it names: walk each node once (no alias bombs)

        def walk(node: Any, prefix: str) -> None:
            if isinstance(node, yaml.MappingNode) and id(node) not in seen:
                seen.add(id(node))
                for k, v in node.value:
                    key = f"{prefix}{k.value}"
                    self.lines[key] = f"{name}:{k.start_mark.line + 1}"
                    walk(v, key + ".")

        try:
            walk(yaml.compose(text), "")
        except yaml.YAMLError:
            pass

    def wrap(self, err: ConfigError, key: str) -> ConfigError:
        loc = self.lines.get(key)
        return ConfigError(f"{loc}: {err}") if loc else err


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, again: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key, self.first, self.again = key, first, again


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (plain YAML keeps the last and
    drops the first silently: a duplicated section would lose every key of the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # a merge (<<: *base) may override what it brings in
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise _DuplicateKey(key_node.value, seen[key_node.value], line)
            seen[key_node.value] = line
        return super().construct_mapping(node, deep)


def _safe_load(text: str, name: str) -> Any:
    """yaml.safe_load, refusing duplicate keys; a YAML error is one line naming `name` and the line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader: no objects constructed)
    except _DuplicateKey as e:
        raise ConfigError(f"{name}:{e.again}: the key '{e.key}' is given twice (also at line {e.first}); YAML would "
                          "keep only the last: merge the two into one") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{name}{line}: invalid YAML ({getattr(e, 'problem', e)})") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def preset_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("seqgan.presets").iterdir() if p.name.endswith(".yaml"))


def _read_source(source: str) -> tuple[str, str]:
    """(text, display name) of a preset name or a YAML path."""
    if source in preset_names():
        text = resources.files("seqgan.presets").joinpath(f"{source}.yaml").read_text(encoding="utf-8")
        return text, f"preset '{source}'"
    path = Path(source)
    if not path.is_file():
        raise ConfigError(
            f"{source}: no such config file or preset; presets are {', '.join(preset_names())}"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{source}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def parse_override(item: str) -> tuple[str, Any]:
    """'section.key=value' -> (key, YAML-parsed value). Numbers YAML reads as strings
    (1e-3: YAML 1.1 wants a dot) become numbers."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value, e.g. --set adversarial.rollout_num=8")
    key, raw = item.split("=", 1)
    key = key.strip()
    try:
        value = yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else None  # noqa: S506
    except _DuplicateKey as e:
        raise ConfigError(f"--set {item}: the key '{e.key}' is given twice; give it once") from None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value.lower() for c in ".e") and value.strip() else value
        except ValueError:
            pass
    return key, value


def _nest(key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def config_from_dict(data: dict[str, Any], where: Optional[_Where] = None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise _error(e, where or _Where()) from None


def load_config(source: Optional[str] = "quick", overrides: Optional[list[str]] = None,
                base: Optional[dict[str, Any]] = None) -> Config:
    """Load a preset or YAML file, apply `--set key=value` overrides, validate.

    Args:
        source: preset name or YAML path (None: the model defaults, i.e. `paper`).
        overrides: ["section.key=value", ...], applied in order.
        base: a plain dict applied before `source` (used by `--resume`).
    """
    where = _Where()
    data: dict[str, Any] = dict(base or {})
    if source is not None:
        text, name = _read_source(source)
        loaded = _safe_load(text, name)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{name}: expected a mapping of config sections at the top level")
        where.add_yaml(text, name)
        data = _merge(data, loaded)
    for item in overrides or []:
        key, value = parse_override(item)
        if key not in _all_keys():
            section = [k for k in _all_keys() if k.startswith(key + ".")]
            if section:
                raise ConfigError(f"--set {item}: '{key}' is a section; set one of its keys, e.g. {section[0]}=...")
            raise ConfigError(f"--set {item}: {_unknown(key)}")
        where.lines[key] = f"--set {item}"
        data = _merge(data, _nest(key, value))
    return config_from_dict(data, where)


def load_run_config(run_dir: str | Path) -> Config:
    """A run directory's config.yaml (one of seqgan 0.1, which held the derived generator.eos_token,
    is refused)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"{run_dir}: no config.yaml there; not a seqgan run directory")
    text, name = _read_source(str(path))
    loaded = _safe_load(text, name)
    if isinstance(loaded, dict) and isinstance(loaded.get("generator"), dict) and "eos_token" in loaded["generator"]:
        raise ConfigError(f"{name}: generator.eos_token is a key of seqgan 0.1's runs, which this version does not "
                          "read: train the run again")
    where = _Where()
    where.add_yaml(text, name)
    if not isinstance(loaded, dict):
        raise ConfigError(f"{name}: expected a mapping of config sections at the top level")
    return config_from_dict(loaded, where)


#: the largest vocabulary size or sequence length a sizes.json may hold (far above any real run's)
MAX_SIZE = 2 ** 24


def _sizes_int(path: Path, d: dict, key: str, low: int, high: int) -> int:
    """d[key] of a sizes.json, an integer in [low, high], else a ConfigError naming the file and key."""
    v = d.get(key, "missing")
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise ConfigError(f"{path}: {key}={str(v)[:40]} must be an integer in [{low}, {high}]; "
                          "restore the run's own sizes.json")
    return v


def load_run_sizes(run_dir: str | Path) -> Sizes:
    """A run directory's sizes.json (a run of seqgan 0.1, which wrote none, is refused)."""
    import json
    path = Path(run_dir) / "sizes.json"
    if path.exists() or path.is_symlink():
        fix = "restore the run's own sizes.json"
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise ConfigError(f"{path}: not a sizes file ({getattr(e, 'strerror', None) or e}); {fix}") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{path}: not a sizes file (a JSON object with vocab_size, seq_len, start_token, "
                              f"eos_token); {fix}")
        vocab = _sizes_int(path, d, "vocab_size", 1, MAX_SIZE)
        seq_len = _sizes_int(path, d, "seq_len", 1, MAX_SIZE)
        start = _sizes_int(path, d, "start_token", 0, vocab - 1)
        eos = None if d.get("eos_token", 0) is None else _sizes_int(path, d, "eos_token", 0, vocab - 1)
        return Sizes(vocab, seq_len, start, eos)
    raise ConfigError(f"{path}: missing; restore the run's own sizes.json (a run of seqgan 0.1, which wrote none, "
                      "cannot be read by this version: train it again)")


def to_dict(cfg: Config) -> dict[str, Any]:
    return cfg.model_dump()


def dump_yaml(cfg: Config) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=None)


#: keys that `seqgan train --resume` lets change: they extend the run or change how it is
#: run, not what has been computed so far
RESUME_SAFE_KEYS = frozenset({
    "adversarial.iterations", "device", "train.threads", "train.tune_allocator", "train.checkpoint_every",
    "train.keep_checkpoints", "train.tensorboard", "train.eval_every",
})


def diff(a: Config, b: Config) -> dict[str, tuple[Any, Any]]:
    """Keys whose values differ: {key: (a_value, b_value)}."""
    fa, fb = _flatten(to_dict(a)), _flatten(to_dict(b))
    return {k: (fa[k], fb[k]) for k in fa if fa[k] != fb[k]}


# ----------------------------------------------------------------------------- docs

def describe(cls: type = Config, prefix: str = "", defaults: Any = None) -> list[tuple[str, str, Any, str]]:
    """(key, type, default, doc) for every leaf key, in declaration order."""
    defaults = defaults if defaults is not None else cls()
    rows = []
    for name, f in _fields(cls).items():
        value = getattr(defaults, name)
        if _is_section(f.annotation):
            rows += describe(f.annotation, f"{prefix}{name}.", value)
        else:
            rows.append((f"{prefix}{name}", _describe_type(f.annotation), value,
                         " ".join((f.description or "").split())))
    return rows
