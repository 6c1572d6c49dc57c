"""A tiny So2Sat LCZ42 release: ``training.h5`` (5 samples), ``validation.h5`` (2)
and ``testing.h5`` (2), 8 x 8 px patches (the release has 32 x 32).

Sample ``i`` of a file has class :func:`label_of` and constant channels:
``sen2[..., c] = 0.01 * (c + 1) + 0.001 * i`` (reflectance) and ``sen1[..., c] =
0.01 * (c + 1)``, except the Lee-filtered intensities ``VH_lee = 0.01`` (-20 dB)
and ``VV_lee = 0.1`` (-10 dB).
"""
import numpy as np

SPLITS = dict(training=5, validation=2, testing=2)
SIZE = 8


def label_of(split, i):
    """The class of sample ``i`` of ``<split>.h5``."""
    return (3 * i + len(split)) % 17


def sen2_value(c, i):
    return 0.01 * (c + 1) + 0.001 * i


def write_so2sat_file(path, n, split, size=SIZE, label=None):
    import h5py
    sen2 = np.zeros((n, size, size, 10))
    sen1 = np.zeros((n, size, size, 8))
    for i in range(n):
        for c in range(10):
            sen2[i, ..., c] = sen2_value(c, i)
        for c in range(8):
            sen1[i, ..., c] = 0.01 * (c + 1)
        sen1[i, ..., 4] = 0.01  # Lee-filtered VH
        sen1[i, ..., 5] = 0.1  # Lee-filtered VV
    if label is None:
        label = np.zeros((n, 17))
        label[np.arange(n), [label_of(split, i) for i in range(n)]] = 1
    with h5py.File(path, 'w') as f:
        f['sen1'] = sen1
        f['sen2'] = sen2
        f['label'] = label


def make_so2sat(root):
    """Write the fake release under ``root``; returns ``SPLITS``."""
    for split, n in SPLITS.items():
        write_so2sat_file(root / f'{split}.h5', n, split)
    return SPLITS
