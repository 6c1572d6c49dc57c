"""benchmark_pretrain: one profiled pretraining step of the small preset, its JSON."""
import json
import math

import pytest

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
