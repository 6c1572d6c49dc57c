"""The real TreeSatAI-TS tile (tests/data/treesatai_ts_sample) through the pipeline."""
import json
import os.path as osp

import h5py
import numpy as np
import pytest
import torch
from osgeo import gdal

from eofm.datasets import MultiModalDataset, multimodal_collate
from eofm.models import MultiModalDataPreprocessor

ROOT = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'treesatai_ts_sample')
TILE = 'Abies_alba_1_1005_WEFL_NLF'
S2_BANDS = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
# AnySat's normalisation statistics for TreeSatAI-TS (from the sample's README).
NORMALIZE = dict(
    aerial=dict(
        mean=[150.8935, 92.7139, 84.8544, 80.7042],
        std=[36.7649, 27.6250, 22.4795, 26.7337]),
    s2=dict(
        mean=[
            4304.33, 4159.27, 4057.78, 4328.95, 4571.22, 4644.87, 4837.25, 4700.26,
            2823.26, 2319.97
        ],
        std=[
            3538.00, 3324.23, 3270.07, 3250.53, 2897.39, 2754.50, 2821.52, 2625.95,
            1731.56, 1549.30
        ]))


def _dates(products, field):
    return [p.decode().split('_')[field][:8] for p in products]


@pytest.fixture
def ann_file(tmp_path):
    with h5py.File(osp.join(ROOT, TILE + '.h5'), 'r') as f:
        s2_dates = _dates(f['sen-2-products'][:], 2)
        asc_dates = _dates(f['sen-1-asc-products'][:], 4)
    h5 = osp.join(ROOT, TILE + '.h5')
    sample = dict(
        sample_id=TILE,
        gt_label=0,
        window=[2, 2, 300, 300],  # the 60 m tile inside the 304 px aerial image
        modalities=dict(
            aerial=dict(
                path=osp.join(ROOT, TILE + '.tif'), bands=['R', 'G', 'B', 'NIR']),
            s2=dict(
                path=h5, format='h5', key='sen-2-data', dates=s2_dates, bands=S2_BANDS),
            s1_asc=dict(
                path=h5,
                format='h5',
                key='sen-1-asc-data',
                dates=asc_dates,
                bands=['VV', 'VH'])))
    path = tmp_path / 'treesatai_ts_sample.json'
    path.write_text(
        json.dumps(dict(metainfo=dict(classes=['Abies']), data_list=[sample])))
    return str(path)


def _pipeline(temporal):
    p = [
        dict(
            type='eofm.LoadMultiModalTiles',
            reference='aerial',
            modalities=dict(aerial=dict(), s2=dict(), s1_asc=dict()))
    ]
    if temporal:
        p.append(
            dict(
                type='eofm.TemporalSample', lengths=dict(s2=20, s1_asc=10),
                mode='even'))
    p.append(
        dict(type='eofm.PackMultiModalInputs', modalities=['aerial', 's2', 's1_asc']))
    return p


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
