"""The registry of methods: the one list of their names. Config validation, `--method`'s
choices, `seqgan config --list`, `compare` and `reproduce` all read it.

A method is a module `seqgan.methods.<name>` that reads like its algorithm (see
`seqgan.plan` for what it provides: `build`, which declares the models and optimizers it
trains beside the generator, and `plan`, its phases and their steps; a method whose
generator is not a policy of `generator.kind` also provides `build_generator`), plus, when it has
settings of its own, a light options module (`seqgan/methods/options/<name>.py`, no torch)
whose section appears in the config under the method's name. Adding a method is those files
and one line below. This module imports neither: it stays cheap for `seqgan --help`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Optional


@dataclass(frozen=True)
class MethodInfo:
    name: str
    """Its name in configs (`method: <name>`), run summaries and `--method`."""
    label: str
    """Its name in tables and figures."""
    summary: str
    """One line for --help and the docs: the paper and what the method does."""
    options: Optional[str] = None
    """'module:Class' of its config section (named like the method) in seqgan/methods/options/, or None."""

    def module(self) -> ModuleType:
        """The algorithm (imports torch)."""
        return importlib.import_module(f"seqgan.methods.{self.name}")

    def options_class(self) -> Any:
        if self.options is None:
            return None
        mod, cls = self.options.split(":")
        return getattr(importlib.import_module(mod if "." in mod else f"seqgan.methods.options.{mod}"), cls)


METHODS: dict[str, MethodInfo] = {m.name: m for m in (
    MethodInfo("seqgan", "SeqGAN", "Yu et al. 2017: MLE, then policy gradient with rollout rewards of a CNN D"),
    MethodInfo("mle", "MLE", "maximum likelihood only (the paper's MLE baseline)"),
    MethodInfo("scheduled_sampling", "Scheduled Sampling", "Bengio et al. 2015: MLE with the inputs mixed with the "
               "generator's own samples", "scheduled_sampling:ScheduledSamplingConfig"),
    MethodInfo("pg_bleu", "PG-BLEU", "SeqGAN's loop with BLEU against the real data as the reward",
               "pg_bleu:PGBLEUConfig"),
    MethodInfo("maligan", "MaliGAN", "Che et al. 2017: MLE weighted by normalised D/(1-D)", "maligan:MaliGANConfig"),
    MethodInfo("rankgan", "RankGAN", "Lin et al. 2017: a ranker of cosines to real sentences", "rankgan:RankGANConfig"),
    MethodInfo("relgan", "RelGAN", "Nie et al. 2019: Gumbel-softmax relaxed samples, so D's gradient reaches G; "
               "relational memory (generator.kind=rmc), RSGAN loss", "relgan:RelGANConfig"),
    MethodInfo("leakgan", "LeakGAN", "Guo et al. 2018: a Manager and a Worker steered by features leaked from D",
               "leakgan:LeakGANConfig"),
)}




def build_generator(cfg: Any, sizes: Any, generator: Any) -> Any:
    """The generator of a run of `cfg` (a `seqgan.policies.Policy`), initialised from the torch
    Generator `generator`: the method's own (its module's `build_generator(cfg, sizes, generator)`,
    LeakGAN's hierarchical policy), else a policy of `generator.kind` (`seqgan.models.build_generator`)."""
    own = getattr(get(cfg.method).module(), "build_generator", None)
    if own is not None:
        return own(cfg, sizes, generator)
    from seqgan.models import build_generator as by_kind
    return by_kind(cfg.generator, generator, sizes)


def method_names() -> list[str]:
    return list(METHODS)


def label(name: str) -> str:
    """A method's table label ('Random' for the untrained generator's row)."""
    return {"random": "Random"}.get(name, METHODS[name].label if name in METHODS else name)


def get(name: str) -> MethodInfo:
    from seqgan.section import ConfigError
    if name not in METHODS:
        raise ConfigError(f"method={name!r}: expected one of {', '.join(METHODS)}")
    return METHODS[name]
