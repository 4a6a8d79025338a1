"""The shared machinery methods run on: the pure training steps (`mle`, `discriminator`,
`adversarial`), the run-bound steps methods are built from (`steps`), and the run that sets
up, evaluates, checkpoints and resumes (`run`)."""

from seqgan.train.run import RunResult, train

__all__ = ["train", "RunResult"]
