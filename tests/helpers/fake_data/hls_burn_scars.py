"""A tiny HLS Burn Scars in the official layout.

Scenes of 16 x 16 px at 30 m (480 m): two in ``training/`` (masks named
``<stem>.mask.tif``), one in ``validation/`` (mask ``<stem>_mask.tif``). Band ``b``
(0-5) is the reflectance ``0.01 (b + 1)``; mask rows are :data:`MASK_ROWS` (-1 no
data, 0 not burned, 1 burn scar).
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

SCENES = dict(
    training=[('T10SEH', '2018190'), ('T11SKA', '2020245')],
    validation=[('T12TUN', '2019001')])
MASK_ROWS = [0, 1, -1, 0] * 4
SIZE = 16


def stem(tile, date):
    return f'subsetted_512x512_HLS.S30.{tile}.{date}.v1.4'


def make_hls_burn_scars(root, size=SIZE):
    """Write the fake tree under ``root``; returns the folder -> scenes dict."""
    image = (0.01 * (np.arange(6)[:, None, None] + 1) + np.zeros(
        (6, size, size))).astype(np.float32)
    mask = np.zeros((1, size, size), np.int16)
    mask[0] = np.resize(np.array(MASK_ROWS, np.int16), size)[:, None]
    for folder, scenes in SCENES.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        mask_suffix = '.mask.tif' if folder == 'training' else '_mask.tif'
        for k, (tile, date) in enumerate(scenes):
            origin = (500000.0 + 20000 * k, 4200000.0)
            name = stem(tile, date)
            write_geotiff(
                root / folder / f'{name}_merged.tif', image, origin, 30.0, epsg=32610)
            write_geotiff(
                root / folder / f'{name}{mask_suffix}', mask, origin, 30.0, epsg=32610)
    return SCENES
