"""The generator G_theta: an LSTM language model with the original's N(0, 0.1) init."""

from __future__ import annotations

from typing import Optional

import torch

from seqgan.config import GeneratorConfig
from seqgan.models.lstm import LSTMLM


class Generator(LSTMLM):
    """LSTM generator (reference §2): every parameter, biases and embedding too, ~ N(0, init_std)."""

    def __init__(self, cfg: GeneratorConfig, generator: Optional[torch.Generator] = None) -> None:
        super().__init__(cfg.vocab_size, cfg.emb_dim, cfg.hidden_dim, cfg.seq_len, cfg.start_token, cfg.eos_token)
        self.init_normal(cfg.init_std, generator)
