"""A tiny OSCD in the official layout.

Cities abudhabi and saclay_e (train) and paris (test), 24 x 36 px at 10 m (20 m
bands 12 x 18, 60 m bands 4 x 6). Band ``k`` (of B01..B12, B8A order) is
1000 * date + 10 * k; B09 (60 m) is 1000 * date + 100 * (60 m pixel index). The
change maps are 0 except a 255 block at rows 4-11, columns 10-17.
"""
import cv2
import numpy as np

from tests.helpers.fake_geo import write_geotiff

IMAGES = 'Onera Satellite Change Detection dataset - Images'
LABELS = dict(
    train='Onera Satellite Change Detection dataset - Train Labels',
    test='Onera Satellite Change Detection dataset - Test Labels')
CITIES = dict(train=['abudhabi', 'saclay_e'], test=['paris'])
BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10',
         'B11', 'B12')
GSD = dict(B01=60, B05=20, B06=20, B07=20, B8A=20, B09=60, B10=60, B11=20, B12=20)
SIZE = (24, 36)
DATES = ('20160823', '20180311')


def band_array(band, date):
    gsd = GSD.get(band, 10)
    h, w = SIZE[0] * 10 // gsd, SIZE[1] * 10 // gsd
    if band == 'B09':
        return (1000 * date + 100 * np.arange(h * w).reshape(h, w)).astype(np.uint16)
    return np.full((h, w), 1000 * date + 10 * BANDS.index(band), np.uint16)


def change_map():
    cm = np.zeros(SIZE, np.uint8)
    cm[4:12, 10:18] = 255
    return cm


def make_oscd(root):
    """Write the fake archives under ``root``; returns the cities per split."""
    images = root / IMAGES
    for split, cities in CITIES.items():
        images.mkdir(parents=True, exist_ok=True)
        (images / f'{split}.txt').write_text(','.join(cities))
        for c, city in enumerate(cities):
            (images / city).mkdir()
            (images / city /
             'dates.txt').write_text(f'date_1: {DATES[0]}\ndate_2: {DATES[1]}\n')
            for date in (1, 2):
                folder = images / city / f'imgs_{date}'
                folder.mkdir()
                for band in BANDS:
                    write_geotiff(
                        folder / f'S2A_OPER_MSI_L1C_TL_SGS__2016_T39RYH_{band}.tif',
                        band_array(band, date), (300000.0 + 10000 * c, 2700000.0),
                        float(GSD.get(band, 10)),
                        epsg=32639)
            cm = root / LABELS[split] / city / 'cm'
            cm.mkdir(parents=True)
            cv2.imwrite(str(cm / 'cm.png'), change_map())
    return CITIES
