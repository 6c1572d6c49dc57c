"""BigEarthNet in its official layout, built from its base configs on tiny fake data."""
import os

import numpy as np
import pytest
import torch

from eofm.datasets.geo_io import RasterReadError
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           collate_batch as _batch)
from tests.helpers.fake_data.bigearthnet import make_bigearthnet, s2_name


# ------------------------------------------------------------------ BigEarthNet
@pytest.fixture
def ben_root(tmp_path):
    make_bigearthnet(tmp_path)
    return tmp_path


def test_bigearthnet_splits_exclusions_and_labels(ben_root):
    cfg = _config('bigearthnet_s2')
    train = _build(cfg, ben_root)
    # train lists patches 0-3; 2 has seasonal snow, 3 clouds.
    assert [train.get_data_info(i)['sample_id']
            for i in range(len(train))] == [s2_name(0), s2_name(1)]
    assert len(_build(cfg, ben_root, 'val_dataloader')) == 1
    assert len(_build(cfg, ben_root, 'test_dataloader')) == 1
    labels = [train.get_data_info(i)['gt_labels'] for i in range(2)]
    assert np.flatnonzero(labels[0]).tolist() == [0]  # urban fabric (airports dropped)
    assert np.flatnonzero(labels[1]).tolist() == [9, 18]
    assert len(labels[0]) == 19 and len(train.metainfo['classes']) == 19
    everything = _build(cfg, ben_root, exclude_files=[])
    assert len(everything) == 4
    assert sum(everything.get_data_info(2)['gt_labels']) == 0  # port areas only


def test_bigearthnet_band_stacking(ben_root):
    cfg = _config('bigearthnet_s2')
    item = _build(cfg, ben_root)[1]
    s2 = item['inputs']['s2'].numpy()
    assert s2.shape == (12, 12, 12)  # 12 bands of 10, 20 and 60 m on the 10 m grid
    bands = cfg.s2_bands
    assert s2[bands.index('B02'), 0, 0] == pytest.approx(0.0501)
    # Bilinear upsampling of the 20 m ramp 1000 + 10 * (6 r + c): the centre of 10 m
    # pixel (3, 5) is at 20 m pixel (1.25, 2.25) -> 1097.5, rounded to 1098 (uint16).
    assert s2[bands.index('B05'), 3, 5] == pytest.approx(0.1098)
    # Nearest: 10 m pixel (3, 5) lies in 20 m pixel (1, 2), (7, 2) in 60 m pixel (1, 0).
    cfg.pipeline[0].modalities.s2.resample = 'nearest'
    s2 = _build(cfg, ben_root, pipeline=cfg.pipeline)[1]['inputs']['s2'].numpy()
    assert s2[bands.index('B05'), 3, 5] == pytest.approx((1000 + 10 * 8) / 1e4)
    assert s2[bands.index('B01'), 7, 2] == pytest.approx(300 / 1e4)
    sample = item['data_samples']
    assert sample.gt_labels.tolist()[9] == 1 and sample.s2_dates == ['2017-06-13']


def test_bigearthnet_mm_batch(ben_root):
    cfg = _config('bigearthnet_mm')
    ds = _build(cfg, ben_root)
    out = _batch(cfg, [ds[0], ds[1]])
    x = out['inputs']
    assert x['s2'].shape == (2, 12, 12, 12) and x['s1'].shape == (2, 2, 12, 12)
    vv = (-12.5 - cfg.normalize.s1.mean[0]) / cfg.normalize.s1.std[0]
    assert x['s1'][:, 0].flatten().tolist() == pytest.approx([vv] * 288, rel=1e-5)
    assert torch.stack([s.gt_labels for s in out['data_samples']]).shape == (2, 19)


def test_bigearthnet_errors(ben_root):
    cfg = _config('bigearthnet_mm')
    with pytest.raises(FileNotFoundError, match='splits/nope.csv'):
        _build(cfg, ben_root, split_file='splits/nope.csv')
    with pytest.raises(ValueError, match='no S1 patch'):
        _build(cfg, ben_root, split_file='splits/s2_only.csv')
    name = s2_name(0)
    os.remove(ben_root / 'BigEarthNet-v1.0' / name / f'{name}_B8A.tif')
    with pytest.raises(RasterReadError, match=f'{name}_B8A.tif: file not found'):
        _build(cfg, ben_root)[0]
    (ben_root / 'BigEarthNet-v1.0' / name /
     f'{name}_labels_metadata.json').write_text('{"labels": ["Shopping malls"]}')
    with pytest.raises(ValueError, match="labels_metadata.json: unknown label 'Shop"):
        _build(cfg, ben_root)
