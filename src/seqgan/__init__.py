"""seqgan: SeqGAN (Yu et al., AAAI-17) — sequence generative adversarial nets with policy gradient.

    import seqgan
    gen = seqgan.load("runs/my_run")   # the trained generator
    gen.sample(5, seed=0)              # (5, T) token ids
"""

from seqgan.api import load

__version__ = "0.1.0"
__all__ = ["load", "__version__"]
