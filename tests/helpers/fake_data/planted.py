"""A tiny PLANTED in the AnySat reference's NumPy export (real tile sizes, few dates).

Splits: train tiles '100' (class 0) and '101' (class 39), val '200' (class 5), test
'300' (class 12). Per tile and modality (:data:`SHAPES`, (T, H, W, C)) the pixels
are ``pixel_value(tile, t, c)`` (constant over the tile), the masks are 1 except
s2 date 1 pixel (2, 3) (0 in channel 4 only), the timestamps 2020-01-05 + 16 days
per date (milliseconds since the epoch, 10:30 UTC).
"""
import datetime
import json

import numpy as np

SPLITS = dict(train={'100': 0, '101': 39}, val={'200': 5}, test={'300': 12})
SHAPES = dict(
    s2=(3, 12, 12, 10),
    s1=(3, 12, 12, 2),
    l7=(4, 4, 4, 6),
    alos=(2, 4, 4, 2),
    modis=(5, 1, 1, 7))
FIRST_DATE = datetime.date(2020, 1, 5)
STEP_DAYS = 16
INVALID = dict(modality='s2', date=1, pixel=(2, 3), channel=4)


def pixel_value(tile, t, c):
    return float(int(tile) + 10 * t + c + 1)


def date_of(t):
    return FIRST_DATE + datetime.timedelta(days=STEP_DAYS * t)


def _timestamps(n):
    epoch = datetime.datetime(1970, 1, 1)
    return np.array([
        int((datetime.datetime.combine(date_of(t), datetime.time(10, 30)) -
             epoch).total_seconds() * 1000) for t in range(n)
    ],
                    dtype=np.int64)


def make_planted(root):
    """Write the fake PLANTED under ``root``; returns :data:`SPLITS`."""
    for split, labels in SPLITS.items():
        (root / split).mkdir(parents=True, exist_ok=True)
        (root / split / 'labels2.json').write_text(json.dumps(labels))
        for tile in labels:
            folder = root / split / tile
            folder.mkdir()
            for m, (t, h, w, c) in SHAPES.items():
                data = np.zeros((t, h, w, c), np.float32)
                for ti in range(t):
                    for ci in range(c):
                        data[ti, :, :, ci] = pixel_value(tile, ti, ci)
                mask = np.ones((t, h, w, c), np.uint8)
                if m == INVALID['modality']:
                    y, x = INVALID['pixel']
                    mask[INVALID['date'], y, x, INVALID['channel']] = 0
                np.savez(folder / f'{tile}_{m}.npz', data)
                np.savez(folder / f'{tile}_{m}_mask.npz', mask)
                np.savez(folder / f'{tile}_{m}_timestamp.npz', _timestamps(t))
    return SPLITS
