"""Models: the LSTM language model (oracle, generator, rollout policy) and the CNN discriminator."""

from seqgan.models.discriminator import Discriminator
from seqgan.models.generator import Generator
from seqgan.models.lstm import LSTMLM, sample_categorical
from seqgan.models.oracle import Oracle

__all__ = ["LSTMLM", "Generator", "Oracle", "Discriminator", "sample_categorical"]
