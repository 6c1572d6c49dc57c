"""A tiny BraDD-S1TS in the per-tile layout eofm assumes (see
:mod:`eofm.datasets.bradd_s1ts`).

Tiles of 6 x 6 px: ``train/tile_0000`` (4 dates) and ``train/tile_0001`` (5 dates),
``val/tile_0100`` and ``test/tile_0200`` (3 dates each). Date ``t`` of a series
has VV = -8 - t dB and VH = -15 - t dB; the mask is :func:`mask_value` (0 or 1) with
255 (not labelled) at (0, 0).
"""
import datetime

import numpy as np

TILES = dict(
    train=[('tile_0000', 4), ('tile_0001', 5)],
    val=[('tile_0100', 3)],
    test=[('tile_0200', 3)])
SIZE = 6
FIRST_DATE = datetime.date(2019, 1, 5)


def dates(n):
    """ISO dates of a series of ``n`` 12-day revisits."""
    return [(FIRST_DATE + datetime.timedelta(days=12 * t)).isoformat()
            for t in range(n)]


def mask_value(row, col):
    return int(col >= row)


def make_bradd_s1ts(root, size=SIZE):
    """Write the fake tree under ``root``; returns the split -> tiles dict."""
    rows, cols = np.mgrid[:size, :size]
    mask = (cols >= rows).astype(np.uint8)
    mask[0, 0] = 255
    for split, tiles in TILES.items():
        for tile, n in tiles:
            folder = root / split / tile
            folder.mkdir(parents=True, exist_ok=True)
            t = np.arange(n, dtype=np.float32)[:, None, None, None]
            base = np.array([-8.0, -15.0], np.float32)[None, :, None, None]
            series = (base - t + np.zeros((n, 2, size, size), np.float32))
            np.save(folder / 's1.npy', series.astype(np.float32))
            (folder / 'dates.txt').write_text('\n'.join(dates(n)) + '\n')
            np.save(folder / 'mask.npy', mask)
    return TILES
