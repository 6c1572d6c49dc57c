"""A tiny fMoW-Sentinel in the official layout.

train.csv: airport_0 (images 0, 1 and 100, out of order) and zoo_3 (image 0);
val.csv: one image. Images: 13-band uint16 GeoTIFFs of 8 x 8 px, band ``b`` of
image ``i`` = 1000 + 10 * b + i.
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

POLYGON = 'POLYGON ((10.0 45.0, 10.02 45.0, 10.02 45.02, 10.0 45.02, 10.0 45.0))'
ROWS = dict(
    train=[('airport', 0, 1, '2017-05-20T10:00:00Z'),
           ('airport', 0, 0, '2016-02-10T10:00:00Z'),
           ('airport', 0, 100, '2018-08-15T00:00:00Z'),
           ('zoo', 3, 0, '2017-01-01T12:00:00Z')],
    val=[('dam', 7, 2, '2019-03-01T00:00:00Z')])
FOLDERS = dict(train='train', val='val')


def make_fmow(root):
    """Write the fake release under ``root``; returns the rows per split."""
    for split, rows in ROWS.items():
        lines = ['category,location_id,image_id,timestamp,polygon']
        for cat, loc, img, stamp in rows:
            lines.append(f'{cat},{loc},{img},{stamp},"{POLYGON}"')
            folder = root / FOLDERS[split] / cat / f'{cat}_{loc}'
            folder.mkdir(parents=True, exist_ok=True)
            data = (1000 + 10 * np.arange(13)[:, None, None] + img + np.zeros(
                (13, 8, 8))).astype(np.uint16)
            write_geotiff(folder / f'{cat}_{loc}_{img}.tif', data,
                          (500000.0 + 1000 * loc, 5000000.0), 10.0)
        (root / f'{split}.csv').write_text('\n'.join(lines) + '\n')
    return ROWS
