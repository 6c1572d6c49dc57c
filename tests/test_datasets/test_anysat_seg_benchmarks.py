"""Sen1Floods11, HLS Burn Scars and BraDD-S1TS (AnySat's segmentation benchmarks of
supplementary Table B), built from their base configs on tiny fakes of their
layouts (BraDD-S1TS: the layout eofm assumes)."""
import datetime
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

import eofm.datasets.bradd_s1ts  # noqa: F401
import eofm.datasets.hls_burn_scars  # noqa: F401
import eofm.datasets.sen1floods11  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.datasets.hls_burn_scars import hls_date
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers.fake_data.bradd_s1ts import TILES, dates, make_bradd_s1ts, mask_value
from tests.helpers.fake_data.hls_burn_scars import MASK_ROWS, SCENES, make_hls_burn_scars, stem
from tests.helpers.fake_data.sen1floods11 import (DATA_DIR, LABEL_ROWS, SPLIT_DIR, SPLITS,
                                    make_sen1floods11)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _config(name):
    return Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', name + '.py'))


def _build(cfg, root, loader='train_dataloader', **overrides):
    ds_cfg = cfg[loader].dataset.copy()
    ds_cfg.update(data_root=str(root), **overrides)
    return DATASETS.build(ds_cfg)


def _ids(ds):
    return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]


def _labels(rows, size):
    """The expected label map of ``rows`` (value per row) after -1 -> 255."""
    values = np.resize(np.array(rows), size)
    return np.where(values < 0, 255, values)[:, None].repeat(size, axis=1)


# ----------------------------------------------------------------- Sen1Floods11
@pytest.fixture(scope='module')
def floods_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('sen1floods11')
    make_sen1floods11(root)
    return root


def test_sen1floods11_splits_and_item(floods_root):
    cfg = _config('sen1floods11')
    train = _build(cfg, floods_root)
    assert _ids(train) == SPLITS['train']
    assert _ids(_build(cfg, floods_root, 'val_dataloader')) == SPLITS['valid']
    assert _ids(_build(cfg, floods_root, 'test_dataloader')) == SPLITS['test']
    assert train.metainfo['classes'] == ('not water', 'water')
    item = train[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert inputs['s1'].shape == (1, 2, 16, 16)
    assert inputs['s2'].shape == (1, 10, 16, 16)
    # B02 .. B8A, B11, B12 of the 13 bands (value 1000 + 100 * index) / 10000
    expected = (1000 + 100 * np.array([1, 2, 3, 4, 5, 6, 7, 8, 11, 12])) / 1e4
    np.testing.assert_allclose(inputs['s2'][0, :, 5, 5].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(inputs['s1'][0, :, 5, 5].numpy(), [-10.0, -17.0])
    # the NaN pixel of the S1 chip is invalid and zeroed
    assert not inputs['s1_mask'][0, 0, 0] and inputs['s1_mask'][0, 1, 1]
    assert inputs['s1'][0, :, 0, 0].tolist() == [0.0, 0.0]
    # placeholder date 2019-01-01 for both images
    assert inputs['s1_doy'].tolist() == [1] and inputs['s2_doy'].tolist() == [1]
    assert sample.metainfo['s1_dates'] == ['2019-01-01']
    np.testing.assert_array_equal(
        np.asarray(sample.gt_seg_map), _labels(LABEL_ROWS, 16))
    assert sample.metainfo['geo']['lat'] is not None


def test_sen1floods11_event_dates(floods_root):
    cfg = _config('sen1floods11')
    ds = _build(
        cfg,
        floods_root,
        event_dates=dict(
            Bolivia=dict(s1='2018-02-15', s2='2018-02-17'), Ghana='2018-09-18'))
    first, second = ds[0]['inputs'], ds[1]['inputs']
    assert first['s1_doy'].tolist() == [46] and first['s2_doy'].tolist() == [48]
    assert second['s1_doy'].tolist() == [261] == second['s2_doy'].tolist()


def test_sen1floods11_layout_errors(floods_root, tmp_path):
    cfg = _config('sen1floods11')
    with pytest.raises(ValueError, match='split must be'):
        _build(cfg, floods_root, split='validation')
    with pytest.raises(FileNotFoundError, match='S2Hand'):
        _build(cfg, tmp_path)
    make_sen1floods11(tmp_path)
    (tmp_path / DATA_DIR / 'S2Hand' / 'Ghana_5079_S2Hand.tif').unlink()
    with pytest.raises(FileNotFoundError, match='Ghana_5079.*no S2Hand file'):
        _build(cfg, tmp_path)
    (tmp_path / SPLIT_DIR / 'flood_test_data.csv').write_text('USA_2.tif,x.tif\n')
    with pytest.raises(ValueError, match=r'line 1: expected'):
        _build(cfg, tmp_path, 'test_dataloader')


# ------------------------------------------------------------------ HLS Burn Scars
@pytest.fixture(scope='module')
def hls_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('hls_burn_scars')
    make_hls_burn_scars(root)
    return root


def test_hls_burn_scars_splits_and_item(hls_root):
    cfg = _config('hls_burn_scars')
    train = _build(cfg, hls_root)
    assert _ids(train) == [stem(*s) for s in SCENES['training']]
    val = _build(cfg, hls_root, 'val_dataloader')  # masks named <stem>_mask.tif
    assert _ids(val) == [stem(*s) for s in SCENES['validation']]
    assert cfg.test_dataloader.dataset.split == 'val'
    item = train[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert inputs['hls'].shape == (1, 6, 16, 16)
    np.testing.assert_allclose(
        inputs['hls'][0, :, 3, 3].numpy(), 0.01 * np.arange(1, 7), rtol=1e-6)
    assert inputs['hls_doy'].tolist() == [190]  # 2018190
    assert sample.metainfo['hls_dates'] == ['2018-07-09']
    np.testing.assert_array_equal(np.asarray(sample.gt_seg_map), _labels(MASK_ROWS, 16))
    assert val[0]['inputs']['hls_doy'].tolist() == [1]


def test_hls_burn_scars_errors(hls_root, tmp_path):
    cfg = _config('hls_burn_scars')
    assert hls_date('subsetted_512x512_HLS.S30.T11SKA.2020245.v1.4_merged.tif') == \
        datetime.date(2020, 9, 1).isoformat()
    with pytest.raises(ValueError, match='YYYYDDD'):
        hls_date('scene_merged.tif')
    with pytest.raises(FileNotFoundError, match='training'):
        _build(cfg, tmp_path)
    make_hls_burn_scars(tmp_path)
    (tmp_path / 'training' / (stem(*SCENES['training'][1]) + '.mask.tif')).unlink()
    with pytest.raises(FileNotFoundError, match='has no mask'):
        _build(cfg, tmp_path)


# ------------------------------------------------------------------ BraDD-S1TS
@pytest.fixture(scope='module')
def bradd_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('bradd_s1ts')
    make_bradd_s1ts(root)
    return root


def test_bradd_s1ts_splits_items_and_batch(bradd_root):
    cfg = _config('bradd_s1ts')
    train = _build(cfg, bradd_root)
    assert _ids(train) == [t for t, _ in TILES['train']]
    assert _ids(_build(cfg, bradd_root, 'val_dataloader')) == ['tile_0100']
    assert _ids(_build(cfg, bradd_root, 'test_dataloader')) == ['tile_0200']
    items = [train[0], train[1]]
    first, sample = items[0]['inputs'], items[0]['data_samples']
    assert first['s1'].shape == (4, 2, 6, 6)
    np.testing.assert_allclose(first['s1'][:, :, 2, 3].numpy(),
                               [[-8 - t, -15 - t] for t in range(4)])
    assert sample.metainfo['s1_dates'] == dates(4)
    assert first['s1_doy'].tolist() == [5, 17, 29, 41]
    expected = np.array([[mask_value(r, c) for c in range(6)] for r in range(6)])
    expected[0, 0] = 255
    np.testing.assert_array_equal(np.asarray(sample.gt_seg_map), expected)
    # series of 4 and 5 dates: the data layer pads and masks the shorter one
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='seg')
    batch = pre(multimodal_collate(items))['inputs']
    assert batch['s1'].shape == (2, 5, 2, 6, 6)
    assert batch['s1_date_mask'].tolist() == [[True] * 4 + [False], [True] * 5]
    assert torch.isfinite(batch['s1']).all()


def test_bradd_s1ts_patterns_and_errors(tmp_path):
    cfg = _config('bradd_s1ts')
    make_bradd_s1ts(tmp_path)
    tile = tmp_path / 'val' / 'tile_0100'
    # another layout through the pattern arguments: <tile>_s1.npy stored (T, H, W, C)
    series = np.load(tile / 's1.npy')
    np.save(tile / 'tile_0100_s1.npy', series.transpose(0, 2, 3, 1))
    (tile / 'tile_0100_dates.csv').write_text('date,orbit\n' + ''.join(
        d.replace('-', '') + ',asc\n' for d in dates(3)))
    ds = _build(
        cfg,
        tmp_path,
        'val_dataloader',
        series_file='{tile}_s1.npy',
        series_axes='THWC',
        dates_file='{tile}_dates.csv')
    item = ds[0]['inputs']
    np.testing.assert_allclose(item['s1'].numpy(), series)
    assert item['s1_doy'].tolist() == [5, 17, 29]
    with pytest.raises(ValueError, match='split must be one of'):
        _build(cfg, tmp_path, split='validation')
    (tile / 'dates.txt').write_text('2019-01-05\n2019-13-40\n')
    with pytest.raises(ValueError, match=r'dates.txt, line 2'):
        _build(cfg, tmp_path, 'val_dataloader')
    (tmp_path / 'test' / 'tile_0200' / 'mask.npy').unlink()
    with pytest.raises(FileNotFoundError, match=r'tile_0200 has no mask.*assumed'):
        _build(cfg, tmp_path, 'test_dataloader')
    with pytest.raises(FileNotFoundError, match='split folder'):
        _build(cfg, tmp_path / 'nowhere')
