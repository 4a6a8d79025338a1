"""PG-BLEU's settings (section `pg_bleu`)."""

from __future__ import annotations

from seqgan.section import Section, in_unit_interval, positive


class PGBLEUConfig(Section):
    max_order: int = 3
    """method=pg_bleu (reference §6): the reward is sentence BLEU with weights 1/max_order each (the paper: 3)."""
    reference_share: float = 0.4
    """Share of the real sequences, drawn once per run, that are the BLEU references (the paper: 40 %)."""
    rollout_num: int = 1
    """Monte Carlo rollouts N of PG-BLEU (the paper: 1; SeqGAN's is adversarial.rollout_num)."""

    def problems(self, prefix: str) -> list[str]:
        return positive(self, prefix, "max_order", "rollout_num") + in_unit_interval(
            self, prefix, "reference_share", open_low=True)
