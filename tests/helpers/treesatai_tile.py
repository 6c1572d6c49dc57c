"""The real TreeSatAI-TS tile of tests/data/treesatai_ts_sample as an eofm annotation
file (one sample: the 60 m aerial tile inside its 304 px image, the Sentinel-2 and
ascending Sentinel-1 series of the HDF5 file), for tests of the data layer and of the
models that take it."""
import json
import os.path as osp

import h5py

from tests.helpers import ROOT as REPO_ROOT

ROOT = osp.join(REPO_ROOT, 'tests', 'data', 'treesatai_ts_sample')
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


def write_annotation(folder):
    """Write ``treesatai_ts_sample.json`` into ``folder``; returns its path."""
    h5 = osp.join(ROOT, TILE + '.h5')
    with h5py.File(h5, 'r') as f:
        s2_dates = _dates(f['sen-2-products'][:], 2)
        asc_dates = _dates(f['sen-1-asc-products'][:], 4)
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
    path = osp.join(str(folder), 'treesatai_ts_sample.json')
    with open(path, 'w') as f:
        json.dump(dict(metainfo=dict(classes=['Abies']), data_list=[sample]), f)
    return path


def pipeline(temporal_lengths=None):
    """Load the three modalities, optionally sample dates evenly, pack."""
    p = [
        dict(
            type='eofm.LoadMultiModalTiles',
            reference='aerial',
            modalities=dict(aerial=dict(), s2=dict(), s1_asc=dict()))
    ]
    if temporal_lengths:
        p.append(
            dict(type='eofm.TemporalSample', lengths=temporal_lengths, mode='even'))
    p.append(
        dict(type='eofm.PackMultiModalInputs', modalities=['aerial', 's2', 's1_asc']))
    return p
