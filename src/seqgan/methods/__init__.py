"""The algorithms, one short module each, reading like their pseudo-code: which phases run, and
what one unit of each does. Checkpoints, exact resume, torchrun, logging and evaluation are the
shared machinery of `seqgan.train.run` and appear in none of them.

    seqgan               the paper's Algorithm 1: MLE, D pre-training, g-steps with rollout rewards + d-steps
    mle                  maximum likelihood only (Table 1's MLE row)
    scheduled_sampling   MLE whose inputs mix in the generator's own samples (Bengio et al. 2015)
    pg_bleu              MLE, then the policy gradient with BLEU against the real data as the reward

A new method is a new module with a `plan(run) -> list[Phase]` and the `NEEDS` of its phases,
registered in METHODS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from seqgan.config import ConfigError
from seqgan.methods import mle, pg_bleu, scheduled_sampling, seqgan
from seqgan.train.run import MethodNeeds, Phase, Run


@dataclass(frozen=True)
class Method:
    name: str
    plan: Callable[[Run], list[Phase]]
    needs: MethodNeeds


METHODS = {m.__name__.rsplit(".", 1)[1]: Method(m.__name__.rsplit(".", 1)[1], m.plan, m.NEEDS)
           for m in (seqgan, mle, scheduled_sampling, pg_bleu)}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ConfigError(f"method={name!r}: expected one of {', '.join(METHODS)}")
    return METHODS[name]
