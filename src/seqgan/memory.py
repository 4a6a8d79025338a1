"""What a run would hold in memory, phase by phase, estimated from its config before any work, so
that a config that cannot fit (`adversarial.rollout_num=1000000`, `generator.hidden_dim=100000`,
`generator.seq_len=200000`, `oracle.num_samples=10000000000`, `evaluate -n` huge) is refused in
one line naming the key, what it would need and what there is, instead of a traceback hours later.

The estimate is deliberately rough (within a small factor, on the high side): it counts the big
tensors of each phase, not Python objects or allocator slack.

    held all along     the real data, the held-out sets, every model with its gradients and Adam
                       moments (generator: MLE and policy-gradient Adams, the rollout and best-MLE
                       copies; discriminator)
    MLE pre-training   a batch's activations, forward and backward
    evaluation         the scored samples, a sampling block's states and logits
    D pre-training     the fresh negatives and the real sequences beside them, a batch's
                       convolution activations (forward and backward)
    adversarial        the rollouts: (T-1) x N x B completions of T tokens with their policy
                       states, and a scoring pass of the discriminator

Budget (`budget`): on a CPU half the physical memory, or of the address-space limit (`ulimit -v`)
when that is lower (`seqgan.data.memory_budget`); on CUDA the GPU's memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from seqgan.section import ConfigError

if TYPE_CHECKING:
    from seqgan.config import Config, Sizes

F32, I64 = 4, 8
#: rows a sampling pass handles at once (`Policy.sample`'s batch) and rows of one softmax chunk
SAMPLE_BLOCK, ROW_CHUNK = 2048, 512
#: bytes per generated token of a text evaluation beyond its id: the token strings and the n-gram
#: counts of BLEU and Self-BLEU (measured: about 150 on the word corpora)
TEXT_TOKEN_BYTES = 200


@dataclass(frozen=True)
class Term:
    """One big tensor (or group) of a phase: its bytes, the config key that sizes it (keys, separated by
    ' and ', when several do), and what it is."""

    bytes: int
    key: str
    what: str


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def generator_params(cfg: "Config", V: int, T: int) -> tuple[int, int]:
    """(parameters, feature size) of the generator of `cfg.generator.kind` for V tokens and T positions."""
    g = cfg.generator
    E, H = g.emb_dim, g.hidden_dim
    if g.kind == "transformer":
        D, L = E, g.num_layers
        core = T * D + L * (4 * D + 4 * D * D + 4 * D + 2 * D * H + H + D) + 2 * D
        return V * D + core + D * V + V, D
    gates = 3 if g.kind == "gru" else 4
    return V * E + gates * H * (E + H + 1) + H * V + V, H


def row_state_floats(cfg: "Config", T: int) -> int:
    """Floats one live sampling or rollout row holds: its recurrent state and a step's temporaries,
    or a Transformer's key/value cache."""
    g = cfg.generator
    if g.kind == "transformer":
        return 2 * g.num_layers * T * g.emb_dim + 4 * g.emb_dim + g.hidden_dim
    return 10 * g.hidden_dim


def discriminator_size(cfg: "Config", V: int, T: int) -> tuple[int, int, int]:
    """(parameters, activation floats per sequence kept for a backward pass, and at the peak of a
    forward pass without one: the widths are convolved one after another) of the CNN discriminator
    at length T."""
    from seqgan.config import paper_filters
    d = cfg.discriminator
    sizes, nums = paper_filters(T) if d.filter_sizes is None else (d.filter_sizes, d.num_filters or [])
    nums = [max(1, round(n * d.filter_scale)) for n in nums]
    F = sum(nums)
    params = V * d.emb_dim + sum(n * k * d.emb_dim + n for k, n in zip(sizes, nums)) + 2 * F * F + 2 * F + 2 * F + 2
    outs = [max(T - k + 1, 1) * n for k, n in zip(sizes, nums)]
    return params, T * d.emb_dim + sum(outs) + 4 * F, T * d.emb_dim + 2 * max(outs, default=0) + 4 * F


def uses_rollouts(cfg: "Config") -> bool:
    return cfg.method in ("seqgan", "pg_bleu", "rankgan") and cfg.adversarial.iterations > 0


def uses_critic(cfg: "Config") -> bool:
    return cfg.method in ("seqgan", "maligan", "rankgan") and cfg.reward.kind == "discriminator"


def phase_terms(cfg: "Config", sizes: "Sizes", real: int, heldout: int) -> dict[str, list[Term]]:
    """The big tensors of every phase of a run of `cfg` with `real` training sequences and `heldout`
    held-out ones (test, valid, selection sets), each phase's list including what is held all along."""
    V, T = sizes.vocab_size, sizes.seq_len
    task = cfg.task == "oracle"
    B = cfg.train.batch_size
    data_key = "oracle.num_samples" if task else "data.train"
    gen_p, feat = generator_params(cfg, V, T)
    size_key = "generator.seq_len" if task else "data.max_len"

    def by(key: str) -> str:  # a term that grows with the length: the length's key is named first when long
        return f"{size_key} and {key}" if T > 200 else key
    gen_key = "generator.hidden_dim" if cfg.generator.hidden_dim * (cfg.generator.hidden_dim + cfg.generator.emb_dim) \
        > V * (cfg.generator.emb_dim + feat) else ("generator.vocab_size" if task else "data.max_vocab")
    held = [Term(real * T * I64 * 2, by(data_key), f"the real data: {real} sequences of {T} tokens"),
            Term(heldout * T * I64, "oracle.test_samples" if task else "data.test",
                 f"the held-out sequences: {heldout} of {T} tokens"),
            Term(gen_p * F32 * 8, gen_key, f"the generator's {gen_p:,} parameters with gradients, Adam moments and "
                                           "copies")]
    if task:
        o = cfg.oracle
        o_p = V * o.emb_dim + 4 * o.hidden_dim * (o.emb_dim + o.hidden_dim + 1) + o.hidden_dim * V + V
        held.append(Term((o_p + V * 4 * o.hidden_dim) * F32, "oracle.hidden_dim",
                         f"the oracle's {o_p:,} parameters"))
    critic = uses_critic(cfg)
    d_p, d_acts, d_peak = discriminator_size(cfg, V, T) if critic else (0, 0, 0)
    if critic:
        held.append(Term(d_p * F32 * 4, "discriminator.filter_sizes" if cfg.discriminator.filter_sizes else size_key,
                         f"the discriminator's {d_p:,} parameters with gradients and Adam moments"))
    sampling = Term(SAMPLE_BLOCK * (row_state_floats(cfg, T) + feat) * F32 + ROW_CHUNK * V * F32 * 2,
                    gen_key, "a sampling block's states and logits")
    phases: dict[str, list[Term]] = {}
    phases["MLE pre-training"] = held + [
        Term(B * T * (row_state_floats(cfg, T) + 2 * feat) * F32 * 3 + min(B * T, 4096) * V * F32 * 2,
             by("train.batch_size"),
             f"a batch's activations ({B} x {T} positions)")]
    n_eval = cfg.train.eval_samples if task else cfg.eval.bleu_samples
    eval_key = "train.eval_samples" if task else "eval.bleu_samples"
    per_token = I64 * 2 if task else I64 + TEXT_TOKEN_BYTES
    phases["evaluation"] = held + [sampling, Term(n_eval * T * per_token, by(eval_key),
                                                  f"{n_eval} samples of {T} tokens scored")]
    if critic:
        for name, p in (("discriminator pre-training", cfg.pretrain), ("adversarial", cfg.adversarial)):
            ns = p.discriminator_samples or real
            key = f"{'pretrain' if name.startswith('d') else 'adversarial'}.discriminator_samples"
            phases.setdefault(name, list(held)).extend([
                sampling,
                Term(ns * T * I64 * 6, key if p.discriminator_samples else data_key,
                     f"{ns} fresh negatives and {ns} real sequences of {T} tokens"),
                Term(B * d_acts * F32 * 3, size_key, f"a batch's convolution activations ({B} sequences)")])
    if uses_rollouts(cfg):
        a = cfg.adversarial
        Bpg, N = a.batch_size or B, a.rollout_num
        R = (T - 1) * N * Bpg
        terms = phases.setdefault("adversarial", list(held))
        terms.append(Term(R * (T * I64 * 4 + row_state_floats(cfg, T) * F32), by("adversarial.rollout_num"),
                          f"the rollouts: {T - 1} prefixes x {N} rollouts x {Bpg} sequences, completed to {T} "
                          "tokens with their policy states"))
        if critic:
            chunk = min(R, a.score_chunk or 4096)
            terms.append(Term(chunk * d_peak * F32, "adversarial.score_chunk",
                              f"a scoring pass of {chunk} completions"))
    return phases


def budget(device_type: str = "cpu", device_index: Optional[int] = None) -> int:
    """Bytes a run may plan to use (see the module docstring)."""
    from seqgan.data import memory_budget
    if device_type == "cuda":
        import torch
        return int(torch.cuda.get_device_properties(device_index or 0).total_memory)
    return memory_budget()


def where(device_type: str) -> str:
    return "the GPU's memory" if device_type == "cuda" else "the budget here (half the memory, or of ulimit -v)"


def check_run(cfg: "Config", sizes: "Sizes", real: int, heldout: int, device_type: str = "cpu",
              device_index: Optional[int] = None) -> None:
    """Refuse (ConfigError, one line) a run one of whose phases would not fit in memory, naming the phase,
    its largest tensor and the key that sizes it."""
    phases = phase_terms(cfg, sizes, real, heldout)
    need = {name: sum(t.bytes for t in terms) for name, terms in phases.items()}
    worst = max(need, key=lambda k: need[k])
    have = budget(device_type, device_index)
    if need[worst] <= have:
        return
    top = max(phases[worst], key=lambda t: t.bytes)
    keys = top.key.split(" and ")
    named = ", ".join(k + _value(cfg, k) for k in keys)
    raise ConfigError(f"{named}: the {worst} phase would need about {gib(need[worst])} ({top.what}: "
                      f"{gib(top.bytes)}) and {gib(have)} is {where(device_type)}; lower {' or '.join(keys)}")


def _value(cfg: "Config", key: str) -> str:
    """'=value' of a dotted config key, or '' for a file (data.train, data.test)."""
    obj: object = cfg
    for part in key.split("."):
        obj = getattr(obj, part, None)
    return "" if obj is None or key in ("data.train", "data.test") else f"={obj}"


def check_samples(n: int, sizes: "Sizes", task: str, what: str, device_type: str = "cpu") -> Optional[str]:
    """None when scoring `n` samples of a run fits in memory, else the one-line reason (`what` names the
    option: '-n', '--samples')."""
    per_token = I64 * 3 if task == "oracle" else I64 + TEXT_TOKEN_BYTES
    need = n * sizes.seq_len * per_token
    have = budget(device_type)
    if need <= have:
        return None
    return (f"{what} {n}: {n} samples of {sizes.seq_len} tokens would need about {gib(need)} to score and "
            f"{gib(have)} is {where(device_type)}; lower {what}")
