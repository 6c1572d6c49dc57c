"""eofm.HeterogeneousBatchSampler: one batch per source per step, rank sharding."""
import pytest
from mmengine.dataset import BaseDataset, ConcatDataset, DefaultSampler
from torch.utils.data import DataLoader

from eofm.registry import DATA_SAMPLERS

SIZES = [40, 10, 6]  # e.g. RGB, SEN12MS, MDAS
BATCH = [8, 2, 1]


class _Source(BaseDataset):

    def __init__(self, name, n):
        self.name, self.n = name, n
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict(name=self.name, index=i) for i in range(self.n)]


def _concat():
    return ConcatDataset(
        [_Source(name, n) for name, n in zip(['rgb', 'sen12ms', 'mdas'], SIZES)])


def _source_of(index):
    bounds = [0, 40, 50, 56]
    return next(i for i in range(3) if bounds[i] <= index < bounds[i + 1])


def test_each_step_has_one_batch_per_source_and_epoch_visits_all():
    sampler = DATA_SAMPLERS.build(
        dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=BATCH),
        default_args=dict(sampler=DefaultSampler(_concat(), seed=3), batch_size=4))
    assert sampler.sizes == SIZES and sampler.seed == 3
    batches = list(sampler)
    assert len(batches) == len(sampler) == 6  # max(40/8, 10/2, 6/1)
    for batch in batches:
        sources = [_source_of(i) for i in batch]
        assert sources == [0] * 8 + [1] * 2 + [2] * 1
    seen = [{i for b in batches for i in b if _source_of(i) == s} for s in range(3)]
    assert [len(s) for s in seen] == SIZES  # every source fully visited


def test_epochs_reshuffle_and_are_reproducible():
    base = DefaultSampler(_concat(), seed=0)
    sampler = DATA_SAMPLERS.build(
        dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=BATCH),
        default_args=dict(sampler=base))
    first = list(sampler)
    assert list(sampler) == first  # the sampler's epoch did not change
    base.set_epoch(1)
    second = list(sampler)
    assert second != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_two_ranks_get_disjoint_equal_shards():
    per_rank = [
        list(
            DATA_SAMPLERS.build(
                dict(
                    type='eofm.HeterogeneousBatchSampler',
                    batch_sizes=BATCH,
                    sizes=SIZES,
                    rank=r,
                    world_size=2,
                    seed=5))) for r in range(2)
    ]
    assert len(per_rank[0]) == len(per_rank[1]) == 3  # max(20/8, 5/2, 3/1)
    for source, n in enumerate(SIZES):
        # the first pass of each rank over the source (later steps cycle on)
        shards = [[i for b in batches for i in b if _source_of(i) == source][:n // 2]
                  for batches in per_rank]
        assert len(set(shards[0])) == len(set(shards[1])) == n // 2
        assert set(shards[0]).isdisjoint(shards[1])
        assert len(set(shards[0]) | set(shards[1])) == n  # together the source


def test_with_a_dataloader_and_errors():
    dataset = _concat()
    sampler = DATA_SAMPLERS.build(
        dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=[4, 2, 2]),
        default_args=dict(sampler=DefaultSampler(dataset)))
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=lambda b: b)
    batch = next(iter(loader))
    assert [d['name'] for d in batch] == ['rgb'] * 4 + ['sen12ms'] * 2 + ['mdas'] * 2
    assert len(loader) == 10
    with pytest.raises(ValueError, match='ConcatDataset'):
        DATA_SAMPLERS.build(
            dict(type='eofm.HeterogeneousBatchSampler', batch_sizes=[1]),
            default_args=dict(dataset=_Source('rgb', 4)))
    with pytest.raises(ValueError, match='2 batch sizes for 3 sources'):
        DATA_SAMPLERS.build(
            dict(
                type='eofm.HeterogeneousBatchSampler', batch_sizes=[1, 2], sizes=SIZES))
