"""benchmark_pretrain: one profiled pretraining step of the small preset, its JSON."""
import json
import math
import statistics

import pytest
import torch

from tools.analysis_tools.benchmark_pretrain import PARTS, main, parse_args
from eofm.datasets.sample_data import generate

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench')
    data = str(root / 'sample')
    generate(data, num_tiles=8, size=32, hr_factor=8, seed=0)
    out = root / 'bench.json'
    main([
        '--preset', 'small', '--iters', '1', '--warmup', '1', '--data-root', data,
        '--out',
        str(out)
    ])
    with open(out) as f:
        return json.load(f)


def test_step_time_and_throughput(report):
    (r, ) = report['results']
    assert r['preset'] == 'small' and r['batch_size'] == 4
    assert r['step_time_s'] > 0 and r['samples_per_s'] > 0
    assert math.isclose(r['samples_per_s'], r['batch_size'] / r['step_time_s'])
    assert r['peak_memory_bytes'] > 0 and r['flops_per_step'] > 0
    assert report['matmul_peak_flops_per_s']['fp32'] > 0


def test_shares_cover_the_step(report):
    (r, ) = report['results']
    expected = {
        'data', 'hr', 's2', 's1', 'up_heads', 'fusion', 'geo_context', 'mgcl',
        'sinkhorn', 'align', 'prototypes', 'teacher_ema', 'backward', 'optimizer',
        'other'
    }
    assert set(PARTS) == expected and set(r['shares']) == expected
    for part, share in r['shares'].items():
        assert 0 <= share <= 1, (part, share)
    assert abs(sum(r['shares'].values()) - 1) < 0.05
    # every labelled range ran (the tiny model uses all three modalities)
    for part in expected - {'other'}:
        assert r['part_times_s'][part] > 0, part
    # the backbone parts ran in both branches and add up
    for part in ('hr', 's2', 's1', 'up_heads', 'fusion', 'geo_context'):
        student = r['branch_times_s']['student'][part]
        teacher = r['branch_times_s']['teacher'][part]
        assert student > 0 and teacher > 0
        assert math.isclose(student + teacher, r['part_times_s'][part], rel_tol=1e-6)
    s = r['summary_shares']
    assert 0 < s['student_forward'] + s['teacher_forward'] < s['forward'] < 1


def test_missing_config_names_the_path(capsys):
    with pytest.raises(SystemExit):
        parse_args(['--config', 'configs/no/such_config.py'])
    assert 'configs/no/such_config.py' in capsys.readouterr().err


def test_fp32_and_bf16_side_by_side(tmp_path):
    """--precision fp32 bf16: one result per precision, the bf16 matmul peak of the
    same run and the step-time ratio."""
    data = str(tmp_path / 'sample')
    generate(data, num_tiles=4, size=32, hr_factor=8, seed=0)
    report = main(['--preset', 'small', '--iters', '1', '--warmup', '0',
                   '--data-root', data, '--precision', 'fp32', 'bf16',
                   '--alternate', '2'])
    assert [r['precision'] for r in report['results']] == ['fp32', 'bf16']
    alt = report['alternating']['small']  # the two precisions' steps in turn
    assert {k: len(v) for k, v in alt['step_times_s'].items()} == dict(fp32=2, bf16=2)
    assert alt['bf16_over_fp32'] == pytest.approx(
        statistics.median(alt['step_times_s']['bf16']) /
        statistics.median(alt['step_times_s']['fp32']))
    with pytest.raises(SystemExit, match='--alternate compares fp32 with bf16'):
        main(['--preset', 'small', '--iters', '1', '--data-root', data,
              '--alternate', '2'])
    assert set(report['matmul_peak_flops_per_s']) == {'fp32', 'bf16'}
    ratio = report['bf16_over_fp32_step_time']['small']
    times = [r['step_time_s'] for r in report['results']]
    assert ratio == pytest.approx(times[1] / times[0])
    assert report['precision_auto'] in ('fp32', 'bf16')


class _Recorder(torch.nn.Module):
    """A model that records whether its forward ran under CPU autocast."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(4, 4))
        self.autocast = []
        self.data_preprocessor = lambda data, training: dict(inputs=data)

    def forward(self, inputs, mode):
        self.autocast.append(torch.is_autocast_enabled('cpu'))
        x = torch.stack(inputs) @ self.w
        return dict(loss=x.float().pow(2).mean())

    def parse_losses(self, losses):
        return losses['loss'], {}


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_pretrain_step_runs_the_forward_in_its_precision(precision):
    from mmengine.optim import OptimWrapper

    from tools.analysis_tools.benchmark_pretrain import PretrainStep
    model = _Recorder()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    step = PretrainStep(model, wrapper, [torch.ones(4)] * 4, 2, collate=list,
                        teacher_ema=False, precision=precision)
    step()
    assert model.autocast == [precision == 'bf16']
    assert model.w.grad is None or float(model.w.grad.abs().sum()) == 0  # zeroed
    assert float(model.w.detach().sum()) < 16  # the step moved the weights
