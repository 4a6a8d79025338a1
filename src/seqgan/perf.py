"""Process-level settings: CPU threads and allocator, and the CUDA precision of a run.

- torch threads: `train.threads` (0 keeps torch's default, one per physical core).
- glibc allocator: tensors of more than 128 KiB are, by default, fresh `mmap`s that the
  kernel must zero and fault in on every allocation, and freed heap tops are returned to the
  OS. SeqGAN allocates (rows x 5000) softmax buffers of tens of MB thousands of times per
  epoch, so on Linux these page faults cost more than the arithmetic (2-3x on the sampling
  and scoring loops). `tune_allocator()` raises the mmap threshold and disables trimming,
  so freed buffers are reused; results are unchanged, only memory is held longer.
  Set `train.tune_allocator: false` (or the environment variable SEQGAN_NO_MALLOC_TUNING=1)
  to keep the defaults.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
from typing import Callable, ContextManager, Iterator

import torch

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_tuned = False


def tune_allocator() -> bool:
    """Make glibc keep and reuse large freed blocks. Returns True when applied."""
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith("linux") or os.environ.get("SEQGAN_NO_MALLOC_TUNING"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = (libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1
              and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
              and libc.mallopt(_M_TOP_PAD, 64 << 20) == 1)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return False
    _tuned = ok
    return ok


def configure_cpu(threads: int = 0, allocator: bool = True) -> None:
    """Apply the thread count and (optionally) the allocator tuning."""
    if threads > 0:
        torch.set_num_threads(threads)
    if allocator:
        tune_allocator()


Autocast = Callable[[], ContextManager[object]]
"""A factory of the context that the training forward passes run in (`train.precision`)."""


def autocast_for(precision: str, device: torch.device) -> Autocast:
    """bf16 on CUDA: bfloat16 autocast; anything else: no autocast (fp32)."""
    if precision == "bf16" and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext


@contextlib.contextmanager
def cuda_precision(precision: str, device: torch.device) -> Iterator[None]:
    """TF32 matmuls and convolutions for `tf32` on CUDA while the run lasts (torch's process-wide
    switches, restored afterwards); `bf16` autocasts only where `autocast_for` is used, so it
    leaves them off; nothing off CUDA (where only fp32 is accepted)."""
    if device.type != "cuda":
        yield
        return
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
