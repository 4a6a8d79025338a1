"""Training phases: MLE pre-training, discriminator training, the adversarial loop, and the run that chains them."""

from seqgan.train.run import RunResult, train

__all__ = ["train", "RunResult"]
