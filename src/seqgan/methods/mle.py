"""Maximum likelihood only: the generator trained by teacher forcing for
`pretrain.generator_epochs` epochs (the paper's MLE baseline in Table 1). The same phase
begins SeqGAN and PG-BLEU, so with the same seed their MLE phase is this run."""

from __future__ import annotations

from seqgan.plan import Build, Models, Phase
from seqgan.train.run import Run
from seqgan.train.steps import mle_phase


def build(b: Build) -> Models:
    return Models()  # the generator alone


def plan(run: Run) -> list[Phase]:
    return [mle_phase(run)]
