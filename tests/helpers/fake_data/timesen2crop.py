"""A tiny TimeSen2Crop release: three 2017-2018 tiles and one 2018-2019 tile.

* ``33TUN`` (2017-18, dates.csv with a header, YYYYMMDD; pixel CSVs with a header):
  classes 0 (pixels 0, 1, 10) and 2 (pixel 0);
* ``33UVP`` (2017-18, ISO dates without header; pixel CSVs without header): classes
  5 (pixel 3) and 15 (pixel 7);
* ``33UWP`` (2017-18, the default validation tile): class 12 (pixel 0);
* ``T2019`` (2018-19, the default test tile): class 1 (pixels 0, 1).

Every pixel of a tile has the tile's dates; band ``b`` of date ``t`` is
``100 * (b + 1) + 10 * t + cls`` (reflectance x 1e4) and the flags are ``FLAGS``
(cloud on the second date, snow on the fourth).
"""
BANDS = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12']
DATES = {
    '33TUN': ['20170905', '20171012', '20180301', '20180615', '20180820'],
    '33UVP': ['2017-09-10', '2017-11-02', '2018-04-11', '2018-07-30'],
    '33UWP': ['20170915', '20180101', '20180505', '20180701'],
    'T2019': ['20180920', '20190110', '20190420', '20190625'],
}
HEADERS = {'33TUN': True, '33UVP': False, '33UWP': True, 'T2019': False}
PIXELS = {
    '33TUN': {
        0: [0, 1, 10],
        2: [0]
    },
    '33UVP': {
        5: [3],
        15: [7]
    },
    '33UWP': {
        12: [0]
    },
    'T2019': {
        1: [0, 1]
    },
}
FLAGS = [0, 1, 0, 3, 0]


def value(b, t, cls):
    return 100 * (b + 1) + 10 * t + cls


def make_timesen2crop(root):
    """Write the fake release under ``root``; returns ``PIXELS``."""
    for tile, dates in DATES.items():
        folder = root / tile
        folder.mkdir(parents=True)
        lines = (['acquisition_date'] if HEADERS[tile] else []) + dates
        (folder / 'dates.csv').write_text('\n'.join(lines) + '\n')
        for cls, pixels in PIXELS[tile].items():
            (folder / str(cls)).mkdir()
            for pid in pixels:
                rows = [','.join(BANDS + ['Label'])] if HEADERS[tile] else []
                for t in range(len(dates)):
                    vals = [value(b, t, cls) for b in range(len(BANDS))]
                    rows.append(','.join(str(v) for v in vals + [FLAGS[t]]))
                (folder / str(cls) / f'{pid}.csv').write_text('\n'.join(rows) + '\n')
    return PIXELS
