"""Heterogeneous per-source batches (msGFM appendix B.1, "heterogeneous batch size").

msGFM draws every step one batch from each sensor's dataset, with a batch size per
sensor proportional to its data volume ({128, 32, 12} per GPU for RGB, SEN12MS and
MDAS), so that "during each epoch every type of sensor is iterated through once".

:class:`HeterogeneousBatchSampler` does this over mmengine's ``ConcatDataset`` of
the sources (one dataset per sensor / source, in ``batch_sizes`` order). Each
yielded batch is the concatenation of one batch of every source (global indices
of the concatenated dataset). Per epoch and per source, the indices are a
permutation (seeded by ``seed``, the epoch and the source), padded by wrapping
around to a multiple of ``world_size`` and sharded ``rank::world_size`` as
PyTorch's ``DistributedSampler`` does, so every rank sees a disjoint share and the
same number of batches. An epoch has ``max_i ceil(shard_i / batch_size_i)``
steps: the source needing most steps is visited once (its last batch completed
by wrapping around), the others cycle through fresh permutations, so every
source is visited at least once and every batch is full. With batch sizes
proportional to the source sizes (the paper's choice) all sources need the same
number of steps.

Config (mmengine gives the batch sampler the ``sampler`` and ``batch_size`` of
the dataloader; the sampler's ``dataset``, ``seed`` and ``epoch`` are used, its
order is not; ``batch_size`` is ignored)::

    train_dataloader = dict(
        batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=True),
        batch_sampler=dict(type='eofm.HeterogeneousBatchSampler',
                           batch_sizes=[128, 32, 12]),
        dataset=dict(type='ConcatDataset', datasets=[rgb, sen12ms, mdas]),
        collate_fn=dict(type='eofm.multimodal_collate'))
"""
import math

import torch
from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from eofm.registry import DATA_SAMPLERS

__all__ = ['HeterogeneousBatchSampler']


@DATA_SAMPLERS.register_module()
class HeterogeneousBatchSampler(Sampler):
    """One batch of every source per step (see the module docstring).

    Args:
        batch_sizes (Sequence[int]): Per-rank batch size of each source.
        sampler (Sampler, optional): The dataloader's sampler (mmengine passes
            it); its ``dataset`` (a ``ConcatDataset``), ``seed`` and ``epoch``
            are used when ``dataset`` / ``seed`` are not given.
        dataset (ConcatDataset, optional): The concatenated sources.
        sizes (Sequence[int], optional): Source lengths instead of a dataset.
        batch_size (int, optional): Ignored (mmengine passes the dataloader's).
        shuffle (bool): Shuffle each source every epoch.
        seed (int, optional): Base seed (same on every rank); default the
            sampler's, else 0.
        rank, world_size (int, optional): Default from ``mmengine.dist``.
    """

    def __init__(self,
                 batch_sizes,
                 sampler=None,
                 dataset=None,
                 sizes=None,
                 batch_size=None,
                 shuffle=True,
                 seed=None,
                 rank=None,
                 world_size=None):
        self.sampler = sampler
        if sizes is None:
            dataset = dataset if dataset is not None else getattr(
                sampler, 'dataset', None)
            cumulative = getattr(dataset, 'cumulative_sizes', None)
            if cumulative is None:
                raise ValueError(
                    'HeterogeneousBatchSampler needs the sources as a ConcatDataset '
                    "(dataset=dict(type='ConcatDataset', datasets=[...])) or "
                    f'sizes=[...], got {type(dataset).__name__}')
            sizes = [b - a for a, b in zip([0] + list(cumulative[:-1]), cumulative)]
        self.sizes = [int(s) for s in sizes]
        self.batch_sizes = [int(b) for b in batch_sizes]
        if len(self.sizes) != len(self.batch_sizes):
            raise ValueError(f'HeterogeneousBatchSampler: {len(self.batch_sizes)} '
                             f'batch sizes for {len(self.sizes)} sources')
        if min(self.sizes) < 1 or min(self.batch_sizes) < 1:
            raise ValueError('HeterogeneousBatchSampler: sources and batch sizes '
                             f'must be non-empty, got sizes {self.sizes} and batch '
                             f'sizes {self.batch_sizes}')
        self.offsets = [sum(self.sizes[:i]) for i in range(len(self.sizes))]
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = dist_world if world_size is None else int(world_size)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'HeterogeneousBatchSampler: rank {self.rank} is not in '
                             f'[0, {self.world_size})')
        self.shuffle = shuffle
        self.seed = seed if seed is not None else getattr(sampler, 'seed', 0) or 0
        self._epoch = None
        self._iterations = 0

    @property
    def shard_sizes(self):
        """Samples of each source on this rank per pass."""
        return [math.ceil(n / self.world_size) for n in self.sizes]

    def __len__(self):
        return max(math.ceil(s / b) for s, b in zip(self.shard_sizes, self.batch_sizes))

    def set_epoch(self, epoch):
        self._epoch = int(epoch)

    @property
    def epoch(self):
        if self._epoch is not None:
            return self._epoch
        if self.sampler is not None and hasattr(self.sampler, 'epoch'):
            return self.sampler.epoch
        return self._iterations

    def _shard(self, source, epoch, cycle):
        """This rank's indices of one pass over a source (DistributedSampler)."""
        n = self.sizes[source]
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + 1000003 * epoch + 7919 * source + 104729 * cycle)
            order = torch.randperm(n, generator=g).tolist()
        else:
            order = list(range(n))
        total = math.ceil(n / self.world_size) * self.world_size
        order += (order * math.ceil(total / n))[:total - n]
        return order[self.rank:total:self.world_size]

    def _stream(self, source, epoch, length):
        out, cycle = [], 0
        while len(out) < length:
            out += self._shard(source, epoch, cycle)
            cycle += 1
        return out[:length]

    def __iter__(self):
        epoch = self.epoch
        self._iterations += 1
        steps = len(self)
        streams = [
            self._stream(i, epoch, steps * b) for i, b in enumerate(self.batch_sizes)
        ]
        for step in range(steps):
            batch = []
            for i, b in enumerate(self.batch_sizes):
                batch += [
                    self.offsets[i] + j for j in streams[i][step * b:(step + 1) * b]
                ]
            yield batch
