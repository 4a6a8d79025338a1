"""What generates tokens: one policy interface (`Policy`), the LSTM of the paper, a GRU, a
KV-cached Transformer and RelGAN's relational memory, and the one sampler they all share (`sampler`)."""

from seqgan.policies.base import Policy
from seqgan.policies.gru import GRUPolicy
from seqgan.policies.lstm import LSTMPolicy
from seqgan.policies.rmc import RMCPolicy
from seqgan.policies.transformer import TransformerPolicy

KINDS = {"lstm": LSTMPolicy, "gru": GRUPolicy, "transformer": TransformerPolicy, "rmc": RMCPolicy}

__all__ = ["Policy", "LSTMPolicy", "GRUPolicy", "TransformerPolicy", "RMCPolicy", "KINDS"]
