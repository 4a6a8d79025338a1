"""Process-level settings: CPU threads and allocator, and the precision of a run (bf16 autocast
on CUDA or on a CPU with a bfloat16 fast path; TF32 on CUDA).

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
from typing import Callable, ContextManager, Iterator, Optional

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


def allocator_tuned() -> bool:
    """True once `tune_allocator` has applied in this process."""
    return _tuned


def max_threads() -> int:
    """The most torch threads a run may ask for: 4 per CPU, at most 1024 (far more threads than
    cores only slows a run down, and tens of thousands crash torch's thread pool)."""
    return min(1024, 4 * (os.cpu_count() or 1))


@contextlib.contextmanager
def cpu_settings(threads: int = 0, allocator: bool = True, announce: bool = True) -> Iterator[None]:
    """torch's thread count (`train.threads`, when > 0) while the block runs, then the caller's
    again. The glibc allocator tuning (`allocator`) cannot be undone (glibc has no way to read its
    previous settings back): it stays for the rest of the process and changes no result. With
    `announce` it is announced once on stderr; `seqgan train` does not announce it but names it
    in the run's first line instead. `train.tune_allocator: false` or SEQGAN_NO_MALLOC_TUNING=1
    keep glibc's defaults."""
    if threads > max_threads():
        from seqgan.config import ConfigError
        raise ConfigError(f"train.threads={threads}: more than {max_threads()} (4 per CPU, at most 1024) would only "
                          f"slow the run or crash it; set train.threads={os.cpu_count() or 1} or 0 (torch's default)")
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    if allocator and not _tuned and tune_allocator() and announce:
        print("seqgan: glibc malloc tuned for this process (large buffers are reused; "
              "train.tune_allocator=false keeps the defaults)", file=sys.stderr)
    try:
        yield
    finally:
        torch.set_num_threads(before)


Autocast = Callable[[], ContextManager[object]]
"""A factory of the context that the training forward passes run in (`train.precision`)."""


#: CPU flags (Linux /proc/cpuinfo) of a bfloat16 fast path: AVX-512 BF16 dot products or AMX tiles
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_bf16_fast_path(cpuinfo: str = "/proc/cpuinfo") -> Optional[str]:
    """The CPU flag that gives bfloat16 matmuls a fast path here (`avx512_bf16` or `amx_bf16`), or
    None: without one, torch emulates bf16 on the CPU at a fraction of the fp32 speed."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return next((flag for flag in BF16_CPU_FLAGS if flag in flags), None)
    except OSError:
        pass
    return None


def check_precision(precision: str, device: torch.device) -> Optional[str]:
    """None when `precision` can run on `device`, else what to change (one line)."""
    if precision == "fp32" or device.type == "cuda":
        return None
    if precision == "tf32":
        return (f"train.precision=tf32 needs a CUDA device and this run is on {device.type}; "
                f"use --set train.precision=fp32 (or bf16 on a CPU with {' or '.join(BF16_CPU_FLAGS)})")
    if cpu_bf16_fast_path() is None:
        return (f"train.precision=bf16 on a CPU needs a bfloat16 fast path ({' or '.join(BF16_CPU_FLAGS)} in "
                f"/proc/cpuinfo) and this CPU has none (bf16 would be emulated, slower than fp32); "
                f"use --set train.precision=fp32")
    return None


def autocast_for(precision: str, device: torch.device) -> Autocast:
    """bf16: bfloat16 autocast on the run's device (CUDA, or a CPU with a fast path, see
    `check_precision`); anything else: no autocast (fp32)."""
    if precision == "bf16" and device.type in ("cuda", "cpu"):
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


@contextlib.contextmanager
def cuda_precision(precision: str, device: torch.device) -> Iterator[None]:
    """TF32 matmuls and convolutions for `tf32` on CUDA while the run lasts (torch's process-wide
    switches, restored afterwards); `bf16` autocasts only where `autocast_for` is used, so it
    leaves them off; nothing off CUDA."""
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
