"""A tiny BigEarthNet v1.0 (S2 + S1) in the official layout.

Five patches of 12 x 12 px at 10 m (20 m bands 6 x 6, 60 m bands 2 x 2), labels in
the 43-class JSON files, split CSVs pairing S2 and S1 names, and the snow and
cloud/shadow exclusion lists. Band values: B02 = 500 + patch index, B05 (20 m) =
1000 + 10 * pixel index of the 6 x 6 grid, B01 (60 m) = 100 * (1 + pixel index),
the others 2000.
"""
import json

import numpy as np

from tests.helpers.fake_geo import write_geotiff

GRIDS = {10: 12, 20: 6, 60: 2}
BAND_GSD = dict(
    B01=60,
    B02=10,
    B03=10,
    B04=10,
    B05=20,
    B06=20,
    B07=20,
    B08=10,
    B8A=20,
    B09=60,
    B11=20,
    B12=20)
LABELS = [
    ['Continuous urban fabric', 'Discontinuous urban fabric', 'Airports'],  # -> [0]
    ['Coniferous forest', 'Sea and ocean'],  # -> [9, 18]
    ['Port areas'],  # -> []
    ['Pastures', 'Water bodies'],  # -> [4, 17]
    ['Vineyards', 'Olive groves'],  # -> [3]
]
SPLITS = dict(train=[0, 1, 2, 3], val=[4], test=[4])
SNOW, CLOUD = [2], [3]


def s2_name(i):
    return f'S2A_MSIL2A_20170613T101031_{i}_{i + 40}'


def s1_name(i):
    return f'S1A_IW_GRDH_1SDV_20170613T165043_33UUP_{i}_{i + 40}'


def band_array(band, i):
    n = GRIDS[BAND_GSD[band]]
    if band == 'B05':
        return (1000 + 10 * np.arange(n * n).reshape(n, n)).astype(np.uint16)
    if band == 'B01':
        return (100 * (1 + np.arange(n * n).reshape(n, n))).astype(np.uint16)
    return np.full((n, n), 500 + i if band == 'B02' else 2000, np.uint16)


def make_bigearthnet(root):
    """Write the fake archive under ``root``; returns the patch names."""
    s2_names = [s2_name(i) for i in range(len(LABELS))]
    for i, labels in enumerate(LABELS):
        origin = (500000.0 + 2000 * i, 5000000.0)
        s2 = root / 'BigEarthNet-v1.0' / s2_names[i]
        s2.mkdir(parents=True)
        for band, gsd in BAND_GSD.items():
            write_geotiff(s2 / f'{s2_names[i]}_{band}.tif', band_array(band, i), origin,
                          float(gsd))
        (s2 / f'{s2_names[i]}_labels_metadata.json').write_text(
            json.dumps(
                dict(
                    labels=labels,
                    projection='EPSG:32632',
                    tile_source='T32TQR',
                    acquisition_date='2017-06-13 10:10:31')))
        s1 = root / 'BigEarthNet-S1-v1.0' / s1_name(i)
        s1.mkdir(parents=True)
        for k, pol in enumerate(('VV', 'VH')):
            write_geotiff(s1 / f'{s1_name(i)}_{pol}.tif',
                          np.full((12, 12), -12.5 - 7 * k, np.float32), origin, 10.0)
        (s1 / f'{s1_name(i)}_labels_metadata.json').write_text(
            json.dumps(dict(labels=labels, corresponding_s2_patch=s2_names[i])))
    (root / 'splits').mkdir()
    for split, ids in SPLITS.items():
        (root / 'splits' / f'{split}.csv').write_text(''.join(
            f'{s2_name(i)},{s1_name(i)}\n' for i in ids))
    (root / 'splits' / 's2_only.csv').write_text(''.join(f'{s2_name(i)}\n'
                                                         for i in SPLITS['train']))
    (root / 'patches_with_seasonal_snow.csv').write_text(''.join(f'{s2_name(i)}\n'
                                                                 for i in SNOW))
    (root / 'patches_with_cloud_and_shadow.csv').write_text(''.join(f'{s2_name(i)}\n'
                                                                    for i in CLOUD))
    return s2_names
