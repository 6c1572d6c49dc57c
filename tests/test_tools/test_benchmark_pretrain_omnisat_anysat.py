"""benchmark_pretrain on the OmniSat and AnySat CPU pretraining configs: one timed
step of each on generated sample data gives a complete report (step time, samples/s,
peak tensor memory and RSS, FLOPs, the generic parts; AnySat's step updates the EMA
teacher, as eofm.TeacherEMAHook does)."""
import json
import math

import pytest

from eofm.models.anysat.jepa import AnySatJEPA
from tools.analysis_tools.benchmark_pretrain import GENERIC_PARTS, main
from eofm.datasets.sample_data import generate

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

CONFIGS = {
    'configs/omnisat/omnisat-pretrain_small_1xb4-100it_eofm-sample-60m.py':
    ('eofm.OmniSatPretrainer', False),
    'configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py':
    ('eofm.AnySatJEPA', True),
}


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench_patch_models') / 'sample'
    generate(str(root), num_tiles=4, size=32, hr_factor=8, seed=0)
    return str(root)


@pytest.mark.parametrize('config', list(CONFIGS))
def test_one_step_report(config, sample, tmp_path, monkeypatch):
    model_type, has_teacher = CONFIGS[config]
    updates = []
    original = AnySatJEPA.update_teacher
    monkeypatch.setattr(AnySatJEPA, 'update_teacher', lambda self:
                        (updates.append(1), original(self))[1])
    out = tmp_path / 'bench.json'
    main([
        '--config', config, '--iters', '1', '--warmup', '0', '--data-root', sample,
        '--out',
        str(out)
    ])
    with open(out) as f:
        report = json.load(f)
    (r, ) = report['results']
    assert r['model'] == model_type and r['batch_size'] == 4
    assert r['samples_per_step'] == 4 and r['step_time_s'] > 0
    assert math.isclose(r['samples_per_s'], 4 / r['step_time_s'])
    assert r['peak_memory_bytes'] > 0 and r['flops_per_step'] > 0
    assert r['peak_rss_bytes'] > r['peak_memory_bytes']
    assert r['parts'] == list(GENERIC_PARTS)
    assert abs(sum(r['shares'].values()) - 1) < 1e-6
    if has_teacher:  # warmup 0: one timed, one profiled, one memory / FLOP step
        assert len(updates) >= 3, updates
    else:
        assert not updates
        assert r['phase_times_s']['teacher_ema'] < 1e-3  # nothing to update
