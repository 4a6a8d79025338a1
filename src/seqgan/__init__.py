"""seqgan: SeqGAN (Yu et al., AAAI-17) — sequence generative adversarial nets with policy gradient."""

__version__ = "0.1.0"
