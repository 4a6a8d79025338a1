"""PG-BLEU's settings (section `pg_bleu`)."""

from __future__ import annotations

from typing import Literal

from seqgan.section import Section, in_unit_interval, positive


class PGBLEUConfig(Section):
    max_order: int = 3
    """method=pg_bleu (reference §6): the reward is sentence BLEU with weights 1/max_order each (the paper: 3)."""
    reference_share: float = 0.4
    """Share of the real sequences, drawn once per run, that are the BLEU references (the paper: 40 %)."""
    rollout_num: int = 1
    """Monte Carlo rollouts N of PG-BLEU (the paper: 1; SeqGAN's is adversarial.rollout_num)."""
    smoothing: Literal["none", "method1"] = "none"
    """The reward's sentence BLEU: 'none' is nltk's unsmoothed sentence_bleu, as the authors' pg_bleu/rollout.py
    calls it (with nltk 3.10 an order without a match counts as sys.float_info.min, so such a sequence scores
    about 1e-103, practically 0; the nltk 3.2 of 2017 instead dropped that order and the higher ones from the
    mean); 'method1': nltk's SmoothingFunction().method1 (0.1 matches for such an order), the evaluation's BLEU."""

    def problems(self, prefix: str) -> list[str]:
        return positive(self, prefix, "max_order", "rollout_num") + in_unit_interval(
            self, prefix, "reference_share", open_low=True)
