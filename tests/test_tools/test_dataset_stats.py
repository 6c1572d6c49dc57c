"""tools/analysis_tools/dataset_stats.py on eofm's generated sample data."""
import copy
import json

import numpy as np
import pytest
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.registry import DefaultScope

from eofm.registry import DATASETS, TRANSFORMS
from tools.analysis_tools.dataset_stats import (dataset_stats, draw_indices,
                                                format_snippet, main)
from eofm.datasets.sample_data import generate

BASE = 'configs/_base_/datasets/eofm_sample.py'
POISON = 1e6


@TRANSFORMS.register_module(name='DatasetStatsTestPoison', force=True)
class Poison(BaseTransform):
    """Writes POISON where statistics must not look: pixels whose mask is made False
    (row 0) and padded dates (their mask made True, only ``m_date_mask`` tells them
    apart). ``invalid`` modalities lose every valid pixel."""

    def __init__(self, invalid=()):
        self.invalid = tuple(invalid)

    def transform(self, results):
        for m in ('hr', 's2', 's1'):
            x, mask = results[m], results[m + '_mask']
            if x.ndim == 4:
                x[:, :, 0] = POISON
                mask[:, 0] = False
                pad = ~results[m + '_date_mask']
                x[pad] = POISON
                mask[pad] = True
            else:
                x[:, 0] = POISON
                mask[0] = False
            if m in self.invalid:
                mask[...] = False
        return results


def _config(data_root, invalid=()):
    cfg = Config.fromfile(BASE)
    ds = cfg.val_dataloader.dataset
    ds.data_root = data_root
    pipeline = copy.deepcopy(cfg.test_pipeline)
    for t in pipeline:
        if t['type'] == 'eofm.TemporalSample':
            t['lengths'] = dict(s2=24, s1=14)  # longer than every series: padding
    pipeline.insert(-1, dict(type='DatasetStatsTestPoison', invalid=list(invalid)))
    ds.pipeline = pipeline
    cfg.test_dataloader = cfg.val_dataloader
    return cfg


def _expected(cfg, indices):
    """Per-band numpy mean / std over the valid pixels of the packed samples."""
    with DefaultScope.overwrite_default_scope('eofm'):
        dataset = DATASETS.build(copy.deepcopy(cfg.val_dataloader.dataset))
        packed = [dataset[i]['inputs'] for i in indices]
    out, padded, masked = {}, 0, 0
    for m in ('hr', 's2', 's1'):
        per_band = []
        for inputs in packed:
            x, mask = inputs[m].numpy(), inputs[m + '_mask'].numpy()
            masked += int((~mask).sum())
            if x.ndim == 4:
                real = inputs[m + '_date_mask'].numpy()
                padded += int((~real).sum())
                x, mask = x[real], mask[real]
                per_band.append(np.stack([x[:, c][mask] for c in range(x.shape[1])]))
            else:
                per_band.append(np.stack([x[c][mask] for c in range(x.shape[0])]))
        values = np.concatenate(per_band, axis=1).astype(np.float64)
        out[m] = (values.mean(1), values.std(1), values.shape[1])
    return out, padded, masked


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sample'))
    generate(root, num_tiles=8, size=16, hr_factor=2, val_fraction=0.5, seed=0)
    return root


def test_stats_match_numpy_over_valid_pixels(data_root):
    cfg = _config(data_root)
    result = dataset_stats(cfg, split='val')
    assert result['dataset_length'] == 4 and result['indices'] == [0, 1, 2, 3]
    expected, padded, masked = _expected(cfg, result['indices'])
    assert padded > 0 and masked > 0  # the check below means something
    assert list(result['modalities']) == ['hr', 's2', 's1']
    for m, (mean, std, count) in expected.items():
        s = result['modalities'][m]
        assert s['count'] == [count] * len(mean)
        np.testing.assert_allclose(s['mean'], mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(s['std'], std, rtol=1e-9, atol=1e-12)
        assert max(s['max']) < POISON / 10  # masked pixels and padded dates left out
        np.testing.assert_allclose(result['normalize'][m]['mean'], mean, rtol=1e-5)
    # The snippet parses to the same numbers.
    snippet = format_snippet(result['normalize'])
    assert snippet.startswith('normalize = dict(')
    parsed = eval(snippet.split('=', 1)[1])
    assert parsed == result['normalize']
    for m, (mean, std, _) in expected.items():
        np.testing.assert_allclose(parsed[m]['mean'], mean, rtol=1e-5)
        np.testing.assert_allclose(parsed[m]['std'], std, rtol=1e-5)

    # Only the modalities asked for.
    only = dataset_stats(cfg, split='val', modalities=['s1'])
    assert list(only['modalities']) == ['s1']
    assert only['modalities']['s1'] == result['modalities']['s1']


def test_seeded_draw_is_reproducible(data_root):
    cfg = _config(data_root)
    a = dataset_stats(cfg, split='val', num_samples=2, seed=3)
    b = dataset_stats(cfg, split='val', num_samples=2, seed=3)
    assert len(a['indices']) == 2 and a == b
    draws = {tuple(draw_indices(4, 2, seed)) for seed in range(10)}
    assert len(draws) > 1  # the seed matters
    expected, _, _ = _expected(cfg, a['indices'])
    np.testing.assert_allclose(
        a['modalities']['s2']['mean'], expected['s2'][0], rtol=1e-9)
    assert draw_indices(4, 10, 0) == [0, 1, 2, 3]


def test_cli_prints_snippet_and_writes_json(data_root, tmp_path, capsys):
    config = str(tmp_path / 'cfg.py')
    _config(data_root).dump(config)
    out = str(tmp_path / 'stats.json')
    result = main([config, '--split', 'val', '--seed', '1', '--out', out])
    text = capsys.readouterr().out
    assert 'modality  band  count' in text
    snippet = text[text.index('normalize = dict('):]
    assert eval(snippet.split('=', 1)[1]) == result['normalize']
    with open(out) as f:
        saved = json.load(f)
    assert saved['normalize'] == result['normalize']
    assert saved['modalities']['s2']['std'] == result['modalities']['s2']['std']


def test_clear_errors(data_root, tmp_path):
    cfg = _config(data_root)
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        dataset_stats(cfg, split='dev')
    with pytest.raises(
            ValueError, match=r"unknown modality s3: .*\['hr', 's2', 's1'\]"):
        dataset_stats(cfg, split='val', modalities=['s2', 's3'])
    with pytest.raises(ValueError, match='modality s1 has no valid pixel'):
        dataset_stats(_config(data_root, invalid=['s1']), split='val')
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(metainfo=dict(), data_list=[])))
    cfg.val_dataloader.dataset.ann_file = str(empty)
    with pytest.raises(ValueError, match='the val dataset .* has no sample'):
        dataset_stats(cfg, split='val')


def test_band_stats_merge_is_stable_and_constant_bands_are_flagged():
    from tools.analysis_tools.dataset_stats import (BandStats, _normalize_entry,
                                                    stat_warnings)
    rng = np.random.default_rng(0)
    chunks = [
        np.stack([1e8 + rng.normal(0, 0.5, n),
                  np.full(n, 0.1, np.float32)]) for n in (1, 7, 300, 50)
    ]
    chunks[2][0, 3] = np.nan  # a non-finite value of a valid pixel
    acc = BandStats(2)
    for c in chunks:
        acc.update(c)
    values = np.concatenate(chunks, axis=1).astype(np.float64)
    band0 = values[0][np.isfinite(values[0])]
    stats = acc.as_dict()
    assert stats['count'] == [band0.size, values.shape[1]]
    assert stats['nonfinite'] == [1, 0]
    np.testing.assert_allclose(stats['mean'][0], band0.mean(), rtol=1e-15)
    np.testing.assert_allclose(stats['std'][0], band0.std(), rtol=1e-6)
    assert stats['std'][1] == 0.0 and stats['min'][1] == stats['max'][1]
    assert _normalize_entry(stats)['std'][1] == 1.0
    warned = stat_warnings(dict(modalities=dict(s1=stats), skipped=[]))
    assert any('s1 band 1 is constant' in w for w in warned)
    assert any('s1 band 0: 1 non-finite' in w for w in warned)


def test_transform_errors_name_the_sample(data_root, tmp_path):
    cfg = _config(str(tmp_path))  # annotation files copied, rasters missing
    for name in ('train.json', 'val.json'):
        with open(f'{data_root}/{name}') as f:
            (tmp_path / name).write_text(f.read())
    with pytest.raises(ValueError, match=r'sample 0 \(.*\): LoadMultiModalTiles'):
        dataset_stats(cfg, split='val')
