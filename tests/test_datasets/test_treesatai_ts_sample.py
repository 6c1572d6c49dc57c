"""The real TreeSatAI-TS tile (tests/data/treesatai_ts_sample) through the pipeline."""
import os.path as osp

import h5py
import numpy as np
import pytest
import torch
from osgeo import gdal

from eofm.datasets import MultiModalDataset, multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from tests.helpers.treesatai_tile import NORMALIZE, ROOT, TILE, pipeline, write_annotation


@pytest.fixture
def ann_file(tmp_path):
    return write_annotation(tmp_path)


def _pipeline(temporal):
    return pipeline(dict(s2=20, s1_asc=10) if temporal else None)


def test_real_tile_shapes_dates_and_values(ann_file):
    ds = MultiModalDataset(ann_file=ann_file, pipeline=_pipeline(temporal=False))
    item = ds[0]
    x = item['inputs']
    assert x['aerial'].shape == (4, 300, 300)
    assert x['s2'].shape == (146, 10, 6, 6)
    assert x['s1_asc'].shape == (60, 2, 6, 6)
    # Dates from the product names: 2020-01-02 is day 2, the series spans 2020.
    assert x['s2_doy'][:3].tolist() == [2, 5, 7]
    assert item['data_samples'].s2_dates[0] == '2020-01-02'
    assert x['s1_asc_doy'][0].item() == 3
    # Values are the files' own: aerial pixel (0, 0) is the raw pixel (2, 2).
    raw = gdal.Open(osp.join(ROOT, TILE + '.tif')).ReadAsArray()
    np.testing.assert_array_equal(x['aerial'].numpy(), raw[:, 2:302, 2:302])
    with h5py.File(osp.join(ROOT, TILE + '.h5'), 'r') as f:
        np.testing.assert_array_equal(x['s2'].numpy(), f['sen-2-data'][:])
    assert x['s2'][0, :, 0,
                   0].tolist() == [455, 424, 365, 490, 554, 526, 556, 675, 427, 220]
    assert 1.0 <= x['s2'].min() and x['s2'].max() <= 14664.0
    # Geo-metadata of a real tile: Lower Saxony.
    geo = item['data_samples'].geo
    assert 9.0 < geo['lon'] < 11.0 and 52.0 < geo['lat'] < 53.0
    assert geo['bounds'][2] - geo['bounds'][0] == pytest.approx(60.0)


def test_real_tile_batches_with_temporal_sampling(ann_file):
    ds = MultiModalDataset(ann_file=ann_file, pipeline=_pipeline(temporal=True))
    pre = MultiModalDataPreprocessor(normalize=NORMALIZE)
    batch = pre(multimodal_collate([ds[0], ds[0]]))['inputs']
    assert batch['s2'].shape == (2, 20, 10, 6, 6)
    assert batch['s1_asc'].shape == (2, 10, 2, 6, 6)
    assert batch['s2_date_mask'].all()
    assert batch['s2_doy'][0].tolist() == sorted(batch['s2_doy'][0].tolist())
    # Normalised with the dataset statistics: magnitudes of order one.
    assert torch.isfinite(batch['aerial']).all()
    assert 0.1 < batch['aerial'].std().item() < 3
    assert 0.1 < batch['s2'].std().item() < 3
