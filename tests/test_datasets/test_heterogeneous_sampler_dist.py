"""eofm.HeterogeneousBatchSampler in a real 2-process run (gloo, CPU).

Each process joins a process group, builds the sampler as mmengine does (from the
dataloader's ``DefaultSampler`` over a ``ConcatDataset`` of three sources, rank and
world size from ``mmengine.dist.get_dist_info()``, the seed synchronised by the
``DefaultSampler``), iterates one epoch through a ``DataLoader`` and gathers what
every rank loaded. The test checks: equal numbers of steps on both ranks, one full
batch of every source per step, every sample of every source visited in the epoch,
and the two ranks' first passes over each source disjoint (up to the wrap-around
padding of an odd-sized source, as ``DistributedSampler``).
"""
import math
import os.path as osp
import pickle
import socket

import torch
import pytest

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

SOURCES = ['rgb', 'sen12ms', 'mdas']
SIZES = [40, 10, 7]  # 7: odd, padded to 8 for 2 ranks
BATCH = [8, 2, 1]


def _worker(rank, port, out_dir):
    import torch.distributed as dist
    from mmengine.dataset import BaseDataset, ConcatDataset, DefaultSampler
    from mmengine.dist import get_dist_info
    from torch.utils.data import DataLoader

    import eofm  # noqa: F401
    from eofm.registry import DATA_SAMPLERS

    class Source(BaseDataset):

        def __init__(self, name, n):
            self.name, self.n = name, n
            super().__init__(serialize_data=False)

        def load_data_list(self):
            return [dict(source=self.name, index=i) for i in range(self.n)]

    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    assert get_dist_info() == (rank, 2)
    # a different seed per process before the sync: DefaultSampler broadcasts rank 0's
    torch.manual_seed(rank)
    concat = ConcatDataset([Source(s, n) for s, n in zip(SOURCES, SIZES)])
    sampler = DefaultSampler(concat, shuffle=True)
    batch_sampler = DATA_SAMPLERS.build(
        dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=BATCH),
        default_args=dict(sampler=sampler, batch_size=1))
    loader = DataLoader(
        concat, batch_sampler=batch_sampler, collate_fn=list, num_workers=0)
    sampler.set_epoch(0)
    batches = [[(d['source'], d['index']) for d in batch] for batch in loader]
    mine = dict(
        rank=batch_sampler.rank,
        world_size=batch_sampler.world_size,
        seed=batch_sampler.seed,
        length=len(batch_sampler),
        batches=batches)
    gathered = [None, None]
    dist.all_gather_object(gathered, mine)
    if rank == 0:
        with open(osp.join(out_dir, 'gathered.pkl'), 'wb') as f:
            pickle.dump(gathered, f)
    dist.barrier()
    dist.destroy_process_group()


def test_two_processes_share_an_epoch(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_worker, args=(port, str(tmp_path)), nprocs=2)
    with open(tmp_path / 'gathered.pkl', 'rb') as f:
        ranks = pickle.load(f)
    assert [r['rank'] for r in ranks] == [0, 1]
    assert {r['world_size'] for r in ranks} == {2}
    assert ranks[0]['seed'] == ranks[1]['seed']  # synchronised by DefaultSampler
    # equal numbers of steps: max(ceil(20 / 8), ceil(5 / 2), ceil(4 / 1)) = 4
    steps = max(math.ceil(math.ceil(n / 2) / b) for n, b in zip(SIZES, BATCH))
    assert ranks[0]['length'] == ranks[1]['length'] == steps == 4
    assert len(ranks[0]['batches']) == len(ranks[1]['batches']) == steps
    for r in ranks:
        for batch in r['batches']:  # one full batch of every source, in order
            assert [s for s, _ in batch
                    ] == [s for s, b in zip(SOURCES, BATCH) for _ in range(b)]
    for source, n in zip(SOURCES, SIZES):
        streams = [[i for b in r['batches'] for s, i in b if s == source]
                   for r in ranks]
        # every sample of the source visited in the epoch, by one rank or the other
        assert set(streams[0]) | set(streams[1]) == set(range(n))
        # each rank's first pass: its DistributedSampler-style shard
        shard = math.ceil(n / 2)
        first = [stream[:shard] for stream in streams]
        assert all(len(set(f)) == shard for f in first)
        padding = 2 * shard - n
        assert len(set(first[0]) & set(first[1])) == padding
        assert set(first[0]) | set(first[1]) == set(range(n))
        assert padding == (1 if n == 7 else 0)
