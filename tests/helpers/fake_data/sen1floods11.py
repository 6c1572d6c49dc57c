"""A tiny Sen1Floods11 (hand-labelled split) in the official v1.1 layout.

Chips of 16 x 16 px at 10 m (160 m): ``Bolivia_103757`` and ``Ghana_5079`` in the
train list, ``Sri-Lanka_1`` in the valid list, ``USA_2`` in the test list. S1 is VV
= -10 dB, VH = -17 dB with a NaN at (0, 0); S2 band ``b`` (0-12) is ``1000 + 100 b``;
the label rows are :data:`LABEL_ROWS` (-1 no data, 0 land, 1 water).
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

SPLITS = dict(
    train=['Bolivia_103757', 'Ghana_5079'], valid=['Sri-Lanka_1'], test=['USA_2'])
LABEL_ROWS = [-1, 0, 1, 1] * 4
SIZE = 16
DATA_DIR = 'v1.1/data/flood_events/HandLabeled'
SPLIT_DIR = 'v1.1/splits/flood_handlabeled'


def make_sen1floods11(root, size=SIZE):
    """Write the fake tree under ``root``; returns the split -> chips dict."""
    s1 = np.stack([np.full((size, size), -10.0),
                   np.full((size, size), -17.0)]).astype(np.float32)
    s1[:, 0, 0] = np.nan
    s2 = (1000 + 100 * np.arange(13)[:, None, None] + np.zeros(
        (13, size, size))).astype(np.float32)
    label = np.zeros((1, size, size), np.int16)
    label[0] = np.resize(np.array(LABEL_ROWS, np.int16), size)[:, None]
    for k, chip in enumerate(c for chips in SPLITS.values() for c in chips):
        origin = (300000.0 + 10000 * k, 8000000.0)
        for sub, arr in (('S1Hand', s1), ('S2Hand', s2), ('LabelHand', label)):
            folder = root / DATA_DIR / sub
            folder.mkdir(parents=True, exist_ok=True)
            write_geotiff(folder / f'{chip}_{sub}.tif', arr, origin, 10.0, epsg=32719)
    (root / SPLIT_DIR).mkdir(parents=True, exist_ok=True)
    for split, chips in SPLITS.items():
        (root / SPLIT_DIR / f'flood_{split}_data.csv').write_text(''.join(
            f'{c}_S1Hand.tif,{c}_LabelHand.tif\n' for c in chips))
    return SPLITS
