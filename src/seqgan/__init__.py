"""seqgan: SeqGAN (Yu et al., AAAI-17) — sequence generative adversarial nets with policy gradient.

    import seqgan
    gen = seqgan.load("runs/my_run")   # the trained generator
    gen.sample(5, seed=0)              # (5, T) token ids
    seqgan.evaluate_run("runs/my_run") # NLL-test, BLEU-2..5, Self-BLEU-2..5 (or NLL-oracle)
"""

from seqgan.api import evaluate_run, load

__version__ = "0.1.0"
__all__ = ["load", "evaluate_run", "__version__"]
