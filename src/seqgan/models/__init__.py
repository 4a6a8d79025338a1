"""Models: the oracle (a frozen LSTM policy), the generator (a policy of `generator.kind`) and
the CNN discriminator. The policies themselves live in `seqgan.policies`."""

from seqgan.models.discriminator import Discriminator
from seqgan.models.generator import build_generator
from seqgan.models.oracle import Oracle, OracleFileError, build_oracle

__all__ = ["build_generator", "build_oracle", "Oracle", "OracleFileError", "Discriminator"]
