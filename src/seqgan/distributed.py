"""Data parallelism under `torchrun` (torch.distributed); a no-op in a plain process.

    torchrun --nproc_per_node=2 -m seqgan train ...        # K = 2 processes on one machine

`torchrun` sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; `init()` reads
them and joins the process group: `nccl` when the run is on GPUs (one per process,
cuda:LOCAL_RANK), `gloo` on CPUs. How each phase is split across K ranks:

- real data and negatives: each rank samples its own shard (1/K) from its own stream;
- MLE and discriminator steps: each rank takes 1/K of every global batch of
  `train.batch_size` and the gradients are averaged by DistributedDataParallel;
- rollouts: each rank samples B/K sequences and rolls out only those, so the
  B x (T-1) x N completions are split; rewards are reduced for the logs and the baseline;
- NLL-oracle: each rank scores 1/K of the samples; the sums are reduced.

Random streams are derived from (seed, stream, rank); model inits from (seed, stream)
alone, so every rank starts with the same weights.
"""

from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.distributed as dist

from seqgan.device import resolve_device


@dataclass(frozen=True)
class World:
    """This process's place in the job (rank 0 of 1 outside torchrun)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = World()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device_name: str, timeout_min: float = 60.0) -> tuple[World, Optional[torch.device]]:
    """Join the torchrun process group if there is one. Returns the world and, when
    distributed, this rank's device (cuda:LOCAL_RANK with nccl, else cpu with gloo). `device_name`
    (auto | cpu | cuda) is checked first, in every process (`seqgan.device.resolve_device`)."""
    use_cuda = resolve_device(device_name).type == "cuda"
    if not launched_by_torchrun():
        return SINGLE, None
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        if local >= torch.cuda.device_count():
            raise ValueError(f"torchrun process with LOCAL_RANK {local} but this machine has "
                             f"{torch.cuda.device_count()} GPU(s): use --nproc_per_node <= {torch.cuda.device_count()}")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo",
                                timeout=datetime.timedelta(minutes=timeout_min))
    return World(rank, size, local), device


def shutdown(clean: bool = True) -> None:
    """Leave the process group. After a clean run: release what may still hold gloo work
    (DDP reducers), wait for every rank, then destroy the group while the interpreter is
    fully alive (gloo worker threads outliving it abort the process at exit)."""
    if not dist.is_initialized():
        return
    gc.collect()
    if clean:
        dist.barrier()
    dist.destroy_process_group()


def all_reduce_sum(t: torch.Tensor, world: World) -> torch.Tensor:
    """Sum of `t` over ranks (in place; returns it). Identity outside torchrun."""
    if world.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


def all_reduce_max(t: torch.Tensor, world: World) -> torch.Tensor:
    if world.distributed:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t


def all_gather_rows(t: torch.Tensor, world: World) -> torch.Tensor:
    """Concatenate every rank's `t` (same shape on every rank) along dim 0, rank-major."""
    if not world.distributed:
        return t
    parts = [torch.empty_like(t) for _ in range(world.size)]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts, 0)


def all_gather_object(obj: Any, world: World) -> list[Any]:
    if not world.distributed:
        return [obj]
    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, world: World) -> Any:
    """Rank 0's `obj` on every rank."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def shard_size(total: int, world: World, what: str) -> int:
    """total / K, refusing a total that K does not divide (every rank must do equal work)."""
    if total % world.size:
        raise ValueError(f"{what}={total} is not divisible by the {world.size} torchrun processes; "
                         f"choose a multiple of {world.size}")
    return total // world.size
