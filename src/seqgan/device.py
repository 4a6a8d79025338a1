"""Where a run computes: `device` (auto | cpu | cuda) resolved once, for `seqgan train`, the run
machinery and torchrun alike."""

from __future__ import annotations

import torch

from seqgan.section import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto': cuda when torch sees a GPU, else cpu; 'cpu'; 'cuda', refused (ConfigError, exit 2) when
    no GPU is visible to torch. Under torchrun each rank then takes its own GPU (`seqgan.distributed.init`)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA GPU is visible to torch; use --set device=cpu or auto")
    return torch.device(name)
