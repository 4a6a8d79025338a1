"""Scheduled Sampling's settings (section `scheduled_sampling`)."""

from __future__ import annotations

from typing import Literal

from seqgan.section import Section, in_unit_interval


class ScheduledSamplingConfig(Section):
    decay: float = 0.002
    """method=scheduled_sampling (Bengio et al. 2015; reference §6): in epoch e the teacher-forcing probability is
    p_e = max(min_p, start_p - decay * e) (the authors' 2016 code: 0.002 per epoch)."""
    min_p: float = 0.0
    """The lowest teacher-forcing probability p."""
    start_p: float = 1.0
    """p_0, the teacher-forcing probability of epoch 0. 1.0 (default): epoch 0 is MLE; the authors' code starts
    its rate at 0.998."""
    coin: Literal["per_token", "per_run"] = "per_token"
    """'per_token' (Bengio et al.): each input token is the true previous token with probability p_e, else the
    generator's own sample. 'per_run' (the authors' code): one uniform u drawn once per run (from the seed), and
    in epoch e every input is the true token when u < p_e, else every input is the generator's sample. Their u is
    tf.constant(random.random()) drawn once at graph build, 0.3975 after random.seed(88), below every rate
    their schedule reaches (0.998 down to 0.4 in 300 epochs), so their SS row is 300 epochs of teacher forcing."""

    def problems(self, prefix: str) -> list[str]:
        errs = [f"{prefix}.decay={self.decay} must be >= 0"] if self.decay < 0 else []
        return errs + in_unit_interval(self, prefix, "min_p", "start_p")
