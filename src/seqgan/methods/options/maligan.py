"""MaliGAN's settings (section `maligan`). What the paper (Che et al. 2017, arXiv 1702.07983)
leaves open, or what we could not read in it, is a named option; the defaults and their
sources are in each docstring."""

from __future__ import annotations

from typing import Literal

from seqgan.section import Section, positive


class MaliGANConfig(Section):
    weight: Literal["ratio", "prob"] = "ratio"
    """method=maligan: r(Y) = D(Y) / (1 - D(Y)), the density ratio p_data/p_G at the optimal D (the paper;
    TextGAN-PyTorch), or 'prob': r = D(Y) (Texygen's maligan_basic). Normalised over each group of samples."""
    samples_per_prefix: int = 16
    """m: the samples (or, with mixed MLE, the continuations of one real prefix) whose weights are normalised
    together, w_i = r_i / sum_j r_j over the group. adversarial.batch_size (or train.batch_size) / m groups
    per g-step; it must divide that batch."""
    baseline: Literal["mean", "none"] = "mean"
    """'mean': each group's weights minus their mean 1/m (the paper's baseline b as both public
    implementations read it); 'none': the normalised weights alone."""
    prefix_start: int = 0
    """Mixed MLE (the paper's sequential MaliGAN): the first N tokens of a real sequence are kept and trained by
    teacher-forced MLE, the other T - N are sampled and trained by the weighted update. N starts here and falls by
    prefix_step every prefix_every iterations down to 0. 0 (default): no mixed MLE, as both public
    implementations (Texygen, TextGAN-PyTorch) run it; the paper's own N, K and schedule could not be read."""
    prefix_step: int = 2
    """K: how much N falls each time (mixed MLE only)."""
    prefix_every: int = 2
    """Adversarial iterations between two falls of N (mixed MLE only)."""

    def problems(self, prefix: str) -> list[str]:
        errs = positive(self, prefix, "samples_per_prefix", "prefix_step", "prefix_every")
        if self.prefix_start < 0:
            errs.append(f"{prefix}.prefix_start={self.prefix_start} must be >= 0 (0: no mixed MLE)")
        return errs
