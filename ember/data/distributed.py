"""``DistributedSampler``: each of ``num_replicas`` processes sees its own 1/num_replicas of
the dataset, as torch.utils.data.distributed.DistributedSampler partitions it."""
from __future__ import annotations

import math

from .sampler import Sampler


def _world(num_replicas, rank):
    if num_replicas is not None and rank is not None:
        return num_replicas, rank
    try:
        from .. import distributed as dist
        ready = dist.is_available() and dist.is_initialized()
    except (ImportError, AttributeError):
        ready = False
    if not ready:
        raise RuntimeError("DistributedSampler: pass num_replicas and rank, or initialize "
                           "ember.distributed (init_process_group) first")
    return (dist.get_world_size() if num_replicas is None else num_replicas,
            dist.get_rank() if rank is None else rank)


class DistributedSampler(Sampler):
    """Indices for replica ``rank`` of ``num_replicas``. Without ``drop_last`` the index list is
    padded by repeating its start so that every replica gets ``ceil(N / num_replicas)`` samples;
    with it, the tail is dropped. Shuffled with seed ``seed + epoch``: call ``set_epoch(epoch)``
    at the start of each epoch, or every epoch sees the same order."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas, rank = _world(num_replicas, rank)
        if num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ..creation import randperm
            from ..random import Generator
            indices = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Reshuffle differently for ``epoch`` (the same on every replica)."""
        self.epoch = epoch
