"""benchmark_pretrain on a config other than SkySense: two timed steps of the msGFM
CPU pretraining config on generated sample data, its JSON (step time, samples/s,
peak tensor memory and process RSS, generic parts), and the batches of a configured
batch sampler."""
import json
import math

import pytest

from tools.analysis_tools.benchmark_pretrain import (GENERIC_PARTS, build_batches,
                                                     default_presets, main,
                                                     preset_overrides)
from eofm.datasets.sample_data import generate

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

MSGFM = 'configs/msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py'


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench_msgfm')
    data = str(root / 'sample')
    generate(data, num_tiles=4, size=32, hr_factor=8, seed=0)
    out = root / 'bench.json'
    main([
        '--config', MSGFM, '--iters', '2', '--warmup', '1', '--data-root', data,
        '--out',
        str(out)
    ])
    with open(out) as f:
        return json.load(f)


def test_msgfm_step_time_memory_throughput(report):
    assert report['config'] == MSGFM and report['device'] == 'cpu'
    (r, ) = report['results']  # msGFM: the 'small' preset only by default
    assert r['preset'] == 'small' and r['model'] == 'eofm.MsGFM'
    assert r['backbone_arch'] == 'tiny' and r['batch_size'] == 4
    assert r['batching'] == 'random' and r['samples_per_step'] == 4
    assert len(r['step_times_s']) == 2 and all(t > 0 for t in r['step_times_s'])
    assert r['step_time_s'] == pytest.approx(
        sorted(r['step_times_s'])[0] / 2 + sorted(r['step_times_s'])[1] / 2)
    assert math.isclose(r['samples_per_s'], 4 / r['step_time_s'])
    assert r['peak_memory_bytes'] > 0 and r['flops_per_step'] > 0
    assert r['peak_rss_bytes'] > r['peak_memory_bytes']
    assert r['cuda_max_allocated_bytes'] is None
    assert r['params_trainable'] > 0
    assert r['phase_times_s']['teacher_ema'] < 1e-3  # msGFM has no teacher


def test_msgfm_generic_parts_cover_the_step(report):
    (r, ) = report['results']
    assert report['parts'] == r['parts'] == list(GENERIC_PARTS)
    assert set(r['shares']) == set(GENERIC_PARTS)
    for part in ('data', 'forward', 'backward', 'optimizer'):
        assert r['part_times_s'][part] > 0, part
    assert abs(sum(r['shares'].values()) - 1) < 1e-6
    assert 0 < r['summary_shares']['forward'] < 1


def test_presets_and_batch_sampler_batches():
    from mmengine.config import Config
    from mmengine.dataset import BaseDataset, ConcatDataset

    cfg = Config.fromfile(MSGFM)
    assert default_presets(MSGFM) == ['small']
    assert preset_overrides(cfg, 'medium') == {'model.backbone.arch': 'small'}
    skysense = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'
    assert default_presets(skysense) == ['small', 'medium']

    class Source(BaseDataset):

        def __init__(self, n):
            self.n = n
            super().__init__(serialize_data=False)

        def load_data_list(self):
            return [dict(i=i) for i in range(self.n)]

    cfg.train_dataloader.batch_sampler = dict(
        type='eofm.HeterogeneousBatchSampler', batch_sizes=[2, 1])
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=True)
    dataset = ConcatDataset([Source(4), Source(3)])
    batches, how = build_batches(cfg, dataset, batch_size=4)
    assert how == 'eofm.HeterogeneousBatchSampler'
    first = [next(batches) for _ in range(6)]  # two epochs of 3 steps
    assert all(len(b) == 3 and b[0] < 4 <= b[2] for b in first)
    assert {i for b in first[:3] for i in b} == set(range(7))
