"""A tiny DynamicEarthNet in the official layout (two areas, 16 x 16 px Planet)."""
import numpy as np
from tests.helpers.fake_geo import write_geotiff

# (area id, UTM zone folder, cube folder, label folder, months with Sentinel-1)
AREAS = [('1330_3107_13', '10N', '27E-187N', '10N-122W-40N-L3H-SR', ('2018-01', )),
         ('2196_3885_13', '17N', '9E-42N', '17N-83W-9N-L3H-SR', ())]
# Planet images written per month (dynnet's 'weekly' days and one more).
DAYS = ('01', '02', '05', '10', '15', '20', '25')
SPLITS = dict(
    train=[(0, '2018-01'), (0, '2018-02'), (1, '2018-01')],
    val=[(1, '2018-02')],
    test=[(0, '2019-12')])
# Planet origin of each area: UTM 10N (EPSG:32610) and 17N (EPSG:32617).
ORIGINS = [((500000.0 - 24, 4427757.0 + 24), 32610), ((400000.0, 1000000.0), 32617)]


def label_value(row, col):
    """Class (0-6) written at (row, col); pixels with row == 15 have no class."""
    return (row // 4 + col // 4) % 7


def make_dynamic_earthnet(root, size=16):
    """Write the areas' Planet, Sentinel and label rasters and the split files.

    Planet pixel values are ``1000 * band + day`` (B, G, R, NIR) at 3 m; Sentinel-2
    (12 bands) and Sentinel-1 (8 bands) monthly rasters are half as fine. Area 0's
    Planet centre is lon -123 (the zone's central meridian). Returns ``SPLITS``.
    """
    (root / 'dynnet_training_splits').mkdir(parents=True)
    rows, cols = np.mgrid[:size, :size]
    onehot = np.stack([(label_value(rows, cols) == c) * 255 for c in range(7)])
    onehot[:, -1] = 0
    for split, samples in SPLITS.items():
        lines = []
        for a, year_month in samples:
            area, zone, cube, lab, s1_months = AREAS[a]
            origin, epsg = ORIGINS[a]
            planet = root / 'planet' / zone / cube / area / 'PF-SR'
            planet.mkdir(parents=True, exist_ok=True)
            for day in DAYS:
                data = np.stack([
                    np.full((size, size), 1000 * b + int(day)) for b in range(1, 5)
                ]).astype(np.uint16)
                write_geotiff(planet / f'{year_month}-{day}.tif', data, origin, 3.0,
                              epsg)
            y, m = year_month.split('-')
            label_dir = root / 'labels' / f'{area}_{zone}' / 'Labels/Raster' / lab
            label_dir.mkdir(parents=True, exist_ok=True)
            label = label_dir / f'{lab}-{y}_{m}_01.tif'
            write_geotiff(label, onehot.astype(np.uint8), origin, 3.0, epsg)
            for sensor, bands in (('sentinel2', 12), ('sentinel1', 8)):
                if sensor == 'sentinel1' and year_month not in s1_months:
                    continue
                folder = root / sensor / f'{area}_{zone}'
                folder.mkdir(parents=True, exist_ok=True)
                write_geotiff(folder / f'{area}_{zone}_{y}_{m}.tif',
                              np.full((bands, size // 2, size // 2), 500, np.uint16),
                              origin, 6.0, epsg)
            lines.append(f'/reprocess-cropped/UTM-24000/{zone}/{cube}/{area}/PF-SR '
                         f'/{label.relative_to(root)} {year_month}')
        (root / 'dynnet_training_splits' / f'{split}.txt').write_text('\n'.join(lines))
    return SPLITS
