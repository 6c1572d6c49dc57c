"""A tiny SICKLE in its official layout (32 x 32 px masks at 10 m).

Samples (UNIQUE_ID: PLOT_ID, SPLIT, crop-type code of its plot): 1: 11, train, 1
(paddy); 2: 12, train, 5 (non-paddy); 3: 13, val, 2 (non-paddy); 4: 14, test, 1.
Every mask: columns 0-15 the sample's plot, rows 0-15 of columns 16-31 the plot of
sample 3 (code 1: ignored outside the val split), the rest no plot (0). Series:
S2 3 dates (the second name starts with the tile 'T44PKV'), S1 2 dates, L8 2 dates
of 11 x 11 px; band ``k`` of date ``t`` holds ``band_value(uid, t, k)``; the names
are listed out of date order.
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

SAMPLES = {
    1: (11, 'train', 1),
    2: (12, 'train', 5),
    3: (13, 'val', 2),
    4: (14, 'test', 1)
}
S2_KEYS = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11', 'B12')
S1_KEYS = ('VV', 'VH')
L8_KEYS = ('SR_B1', 'SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7', 'ST_B10')
# (file name, ISO date), listed out of order on purpose
FILES = dict(
    S2=[('20180301T050701_20180301T051001_T44PKV.npz', '2018-03-01'),
        ('T44PKV_20180105T050151_x.npz', '2018-01-05'),
        ('20180120T050151_20180120T050150_T44PKV.npz', '2018-01-20')],
    S1=[('S1A_IW_GRDH_1SDV_20180210T003512_20180210T003537_x.npz', '2018-02-10'),
        ('S1A_IW_GRDH_1SDV_20180110T003512_20180110T003537_x.npz', '2018-01-10')],
    L8=[('LC08_142052_20180212.npz', '2018-02-12'),
        ('LC08_142052_20180127.npz', '2018-01-27')])
KEYS = dict(S2=S2_KEYS, S1=S1_KEYS, L8=L8_KEYS)
SIZES = dict(S2=32, S1=32, L8=11)


def band_value(uid, t, k):
    """Value of band ``k`` on the ``t``-th date (chronological) of sample ``uid``."""
    return float(100 * uid + 10 * t + k + 1)


def make_sickle(root):
    """Write the fake SICKLE under ``root``; returns :data:`SAMPLES`."""
    lines = ['UNIQUE_ID,PLOT_ID,SPLIT,YEAR']
    for uid, (plot, split, _) in SAMPLES.items():
        lines.append(f'{uid},{plot},{split},2018')
    (root / 'sickle_dataset_tabular.csv').write_text('\n'.join(lines) + '\n')
    for uid, (plot, _, code) in SAMPLES.items():
        for sensor, files in FILES.items():
            folder = root / 'images' / sensor / 'npy' / str(uid)
            folder.mkdir(parents=True)
            order = sorted(d for _, d in files)
            n = SIZES[sensor]
            for name, date in files:
                t = order.index(date)
                arrays = {
                    key: np.full((n, n), band_value(uid, t, k), np.float32)
                    for k, key in enumerate(KEYS[sensor])
                }
                np.savez(folder / name, **arrays)
        plots = np.zeros((32, 32), np.uint16)
        codes = np.zeros((32, 32), np.uint16)
        plots[:, :16], codes[:, :16] = plot, code
        plots[:16, 16:], codes[:16, 16:] = 13, 1
        (root / 'masks' / '10m').mkdir(parents=True, exist_ok=True)
        write_geotiff(
            root / 'masks' / '10m' / f'{uid}.tif',
            np.stack([plots, codes, np.zeros_like(codes)]),
            origin=(370000.0 + 1000 * uid, 1200000.0),
            epsg=32644)
    return SAMPLES
