"""seqgan: SeqGAN (Yu et al., AAAI-17) — sequence generative adversarial nets with policy gradient.

    import seqgan
    gen = seqgan.load("runs/my_run")   # the trained generator
    gen.sample(5, seed=0)              # (5, T) token ids
    seqgan.evaluate_run("runs/my_run") # NLL-test, BLEU-2..5, Self-BLEU-2..5 (or NLL-oracle)

`load` and `evaluate_run` import torch when first used, so `import seqgan` (and `seqgan
--help`) is quick.
"""

from typing import Any

__version__ = "0.2.0"
__all__ = ["load", "evaluate_run", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("load", "evaluate_run"):
        from seqgan import api
        return getattr(api, name)
    raise AttributeError(f"module 'seqgan' has no attribute {name!r}")
