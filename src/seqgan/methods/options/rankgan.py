"""RankGAN's settings (section `rankgan`). The paper (Lin et al., NIPS 2017, arXiv 1705.11001)
was not at hand in full: gamma and the set sizes are Texygen's (its authors'-era port), named
here so that they can be changed."""

from __future__ import annotations

from typing import Literal

from seqgan.section import Section, positive


class RankGANConfig(Section):
    gamma: float = 1.0
    """method=rankgan: the softmax's inverse temperature over relevance scores, P(s | u, C') =
    exp(gamma cos(y_s, y_u)) / sum_{s' in C'} exp(gamma cos(y_s', y_u)). Texygen's is 1 in effect."""
    reference_size: int = 16
    """|U|: real sequences drawn afresh for every ranker batch and every g-step as the references u (Texygen: 16)."""
    comparison_size: int = 64
    """|C|: the comparison set a sequence is ranked in. Ranker training ranks real sequences among generated ones
    and generated among real ones (half of each batch is each); the generator's rewards rank each completion among
    |C| real sequences drawn for the g-step."""
    reward: Literal["log", "prob"] = "log"
    """The reward of a completion: its expected log rank score, mean over u of log P(s | u, C') (the paper), or
    'prob': the mean probability (Texygen's RankganReward)."""

    def problems(self, prefix: str) -> list[str]:
        return positive(self, prefix, "gamma", "reference_size", "comparison_size")
