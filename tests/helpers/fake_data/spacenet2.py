"""A tiny SpaceNet-2 tree in the public layout (PAN / MUL / MUL-PanSharpen).

Two AOI folders, ``AOI_2_Vegas_Train`` (images 1, 2, 3, 5) and
``AOI_3_Paris_Train`` (images 10, 11), WGS84 like the real tiles: ``PAN`` of
``size`` x ``size`` px, ``MUL`` (8 bands) of ``size // 4`` px over the same ground
and ``MUL-PanSharpen`` (8 bands) of ``size`` px. Values are 11-bit digital numbers:
PAN 1000, MUL band ``b`` 100 * (b + 1), MUL-PanSharpen band ``b`` 100 * (b + 1) +
image number.
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

IMAGES = [('AOI_2_Vegas_Train', 'AOI_2_Vegas', n)
          for n in (1, 2, 3, 5)] + [('AOI_3_Paris_Train', 'AOI_3_Paris', n)
                                    for n in (10, 11)]
PAN_PIXEL = 3e-6  # degrees, about 0.3 m


def _ms(size, offset=0):
    bands = 100 * (np.arange(8) + 1)[:, None, None] + offset
    return (bands + np.zeros((8, size, size))).astype(np.uint16)


def make_spacenet2(root, size=64):
    """Write the fake SpaceNet-2 under ``root``; returns the (folder, AOI, number)
    triplets."""
    for folder, aoi, num in IMAGES:
        origin = (-115.3 + 0.001 * num, 36.2)
        arrays = dict(
            PAN=(np.full((1, size, size), 1000, np.uint16), PAN_PIXEL),
            MUL=(_ms(size // 4), 4 * PAN_PIXEL),
            **{'MUL-PanSharpen': (_ms(size, num), PAN_PIXEL)})
        for sub, (array, pixel) in arrays.items():
            path = root / folder / sub / f'{sub}_{aoi}_img{num}.tif'
            path.parent.mkdir(parents=True, exist_ok=True)
            write_geotiff(path, array, origin, pixel, epsg=4326)
    return IMAGES
