"""Scheduled Sampling's settings (section `scheduled_sampling`)."""

from __future__ import annotations

from seqgan.section import Section, in_unit_interval


class ScheduledSamplingConfig(Section):
    decay: float = 0.002
    """method=scheduled_sampling (Bengio et al. 2015; reference §6): in epoch e each input token is the true
    previous token with probability p = max(min_p, 1 - decay * e), else the generator's own sample (the
    authors' 2016 code: 0.002 per epoch from 1.0)."""
    min_p: float = 0.0
    """The lowest teacher-forcing probability p."""

    def problems(self, prefix: str) -> list[str]:
        errs = [f"{prefix}.decay={self.decay} must be >= 0"] if self.decay < 0 else []
        return errs + in_unit_interval(self, prefix, "min_p")
