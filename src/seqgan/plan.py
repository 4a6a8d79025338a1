"""What a method gives the shared machinery, and what the machinery gives it: the types both
sides import, so that neither imports the other's internals.

A method module (`seqgan.methods.<name>`) provides

    build(b: Build) -> Models          the models and optimizers it trains beside the generator
    plan(run: Run) -> list[Phase]      its phases; a unit of a phase is a list of parts (steps)
    check(cfg, sizes, world)           optional: raises ConfigError for settings the method cannot run,
                                       before the run directory is written (so the fixed command can
                                       reuse the same --out)

`seqgan.train.run` builds the generator and its MLE optimizer, calls `build`, and from the
declaration alone checkpoints and restores every model and optimizer, wraps the trained models
for torchrun, runs the phases, evaluates, logs and resumes. `load`, `generate`, `sweep` and
`compare` read only the generator, which every method has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

if TYPE_CHECKING:  # torch is imported when used: the phase names below are read by `seqgan --help`
    import torch
    from torch import nn

    from seqgan.config import Config, Sizes
    from seqgan.policies import Policy


#: the phase names of metrics.jsonl, summary.json's curves and checkpoints: a method names its phases
#: from these, and readers (plot, compare, reproduce) look for them; INIT is the untrained generator's
#: evaluation before the first phase
INIT, MLE, SCHEDULED_SAMPLING, DISCRIMINATOR, ADVERSARIAL = (
    "init", "mle", "scheduled_sampling", "discriminator", "adversarial")

#: the phases whose units train the generator, in the order a run has them: the x axis of the NLL
#: curves (`plot`, `reproduce`); every method names its phases from these and DISCRIMINATOR
GENERATOR_PHASES = (MLE, SCHEDULED_SAMPLING, ADVERSARIAL)


class _Evaluate:
    def __repr__(self) -> str:
        return "EVALUATE"


EVALUATE = _Evaluate()
"""A part of a unit: evaluate here (every `train.eval_every` units and at the phase's last)."""

Part = Union[Callable[[], dict[str, Any]], _Evaluate]
"""A step (returns its metrics) or EVALUATE."""


@dataclass
class Phase:
    """One phase of a method: `units` units, unit i made of `parts(i)`, run in order."""

    name: str
    """Its name in logs and checkpoints: one of the names above (MLE, DISCRIMINATOR, ADVERSARIAL, ...)."""
    units: int
    parts: Callable[[int], list[Part]]
    desc: str = ""
    """Progress bar label."""
    log_line: str = ""
    """The original's experiment-log line at the phase's start ('pre-training...')."""
    on_start: Optional[Callable[[], None]] = None
    """Called once when the phase starts (not again on resume)."""
    on_end: Optional[Callable[[], None]] = None
    """Called when the phase ends (rank 0 writes the MLE baseline's weights)."""
    show: tuple[str, ...] = ()
    """Metrics shown on the progress bar."""
    trains_generator: bool = True
    """Its units train the generator (MLE epochs, adversarial iterations): the x axis of NLL curves."""


def make_adam(model: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam with the original's (TF's) defaults, betas 0.9/0.999, eps 1e-8; the fused kernel
    (one pass over all parameters) where this torch has it for the device."""
    import torch
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr)


@dataclass
class Build:
    """What `build` gets: the config, the derived sizes, the device and the generator."""

    cfg: "Config"
    sizes: "Sizes"
    device: torch.device
    gen: "Policy"
    init_seed: Callable[[int], int]
    """init_seed(stream) -> the seed of a model's initialisation stream (the same on every torchrun rank)."""

    def adam(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        return make_adam(model, lr)


@dataclass
class Models:
    """A method's declaration of what it trains beside the generator (built by the machinery,
    with the `mle` optimizer)."""

    modules: dict[str, nn.Module] = field(default_factory=dict)
    """Checkpoint prefix -> model ('discriminator', 'rollout', 'ranker', ...)."""
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    """Name -> optimizer ('discriminator', 'pg', ...); checkpointed by name."""
    distributed: tuple[str, ...] = ()
    """The modules trained by gradient steps: wrapped in DistributedDataParallel under torchrun."""
