"""Maximum likelihood only: the generator trained by teacher forcing for
`pretrain.generator_epochs` epochs (the paper's MLE baseline in Table 1). The same phase
begins SeqGAN and PG-BLEU, so with the same seed their MLE phase is this run."""

from __future__ import annotations

from seqgan.train.phases import mle_phase
from seqgan.train.run import MethodNeeds, Phase, Run

NEEDS = MethodNeeds()


def plan(run: Run) -> list[Phase]:
    return [mle_phase(run)]
