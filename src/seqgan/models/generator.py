"""The generator G_theta: a policy of `generator.kind` with the original's N(0, init_std) init."""

from __future__ import annotations

from typing import Optional

import torch

from seqgan.config import GeneratorConfig, Sizes
from seqgan.policies import KINDS, Policy, RMCPolicy, TransformerPolicy


def build_generator(cfg: GeneratorConfig, generator: Optional[torch.Generator] = None,
                    sizes: Optional[Sizes] = None) -> Policy:
    """A generator of `cfg.kind`: the LSTM of the paper (every parameter, biases and embedding
    too, ~ N(0, init_std)), a GRU initialised alike, a Transformer (matrices and embeddings
    ~ N(0, init_std), biases 0, LayerNorm gains 1), or RelGAN's relational memory (its authors'
    init, `RMCPolicy.init_authors`). `sizes`: the vocabulary, length and start /
    end tokens (default: the section's own, fixed length: the oracle task)."""
    s = sizes or Sizes(cfg.vocab_size, cfg.seq_len, cfg.start_token, None)
    common = dict(start_token=s.start_token, eos_token=s.eos_token)
    if cfg.kind == "transformer":
        policy: Policy = TransformerPolicy(s.vocab_size, cfg.emb_dim, cfg.hidden_dim, s.seq_len, cfg.num_layers,
                                           cfg.num_heads, **common)  # type: ignore[arg-type]
    elif cfg.kind == "rmc":  # RelGAN's relational memory, with its authors' init
        rmc = RMCPolicy(s.vocab_size, cfg.emb_dim, s.seq_len, cfg.mem_slots, cfg.num_heads, cfg.head_size,
                        **common)  # type: ignore[arg-type]
        rmc.init_authors(generator)
        return rmc
    else:
        policy = KINDS[cfg.kind](s.vocab_size, cfg.emb_dim, cfg.hidden_dim, s.seq_len, **common)
    policy.init_normal(cfg.init_std, generator)  # type: ignore[operator]
    return policy
