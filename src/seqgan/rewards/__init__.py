"""What scores a finished sequence: a `Reward` maps sequences (M, T) to rewards (M,). Rollouts
(`seqgan.rollout`) call it on every completion; methods choose which one.

- `DiscriminatorReward`: the discriminator's probability of "real" (SeqGAN).
- `BLEUReward`: BLEU of the sequence against reference sequences (PG-BLEU).
"""

from seqgan.rewards.base import Reward
from seqgan.rewards.bleu import BLEUReward
from seqgan.rewards.discriminator import DiscriminatorReward

__all__ = ["Reward", "DiscriminatorReward", "BLEUReward"]
