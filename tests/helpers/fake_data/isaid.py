"""A tiny iSAID in the official layout: zipped images and RGB semantic masks.

::

    root/train/images/part1.zip              images/P0001.png   (1000 x 1408 px)
    root/train/Semantic_masks/images.zip     images/P0001_instance_color_RGB.png
    root/val/images/part1.zip                images/P0002.png   (500 x 600 px)
    root/val/Semantic_masks/images.zip       images/P0002_instance_color_RGB.png
    root/test/images/part1.zip               images/P0003.png   (300 x 300 px)

Masks use iSAID's RGB colours (ship (0, 0, 63), plane (0, 127, 255), harbor
(0, 100, 155)) plus one colour outside the palette.
"""
import zipfile
from pathlib import Path

import cv2
import numpy as np

# image -> (split, (height, width), [(rgb colour, (y0, y1, x0, x1))])
IMAGES = {
    'P0001': ('train', (1000, 1408), [((0, 0, 63), (100, 200, 100, 300)),
                                      ((0, 127, 255), (600, 900, 1200, 1400)),
                                      ((10, 20, 30), (900, 950, 0, 50))]),
    'P0002': ('val', (500, 600), [((0, 100, 155), (0, 100, 0, 600))]),
    'P0003': ('test', (300, 300), []),
}


def _png(arr_bgr):
    ok, buf = cv2.imencode('.png', arr_bgr)
    assert ok
    return buf.tobytes()


def make_isaid(root):
    """Write the fake iSAID under ``root``; returns what the tests check against."""
    root = Path(root)
    for name, (split, hw, regions) in IMAGES.items():
        img = np.zeros(hw + (3, ), np.uint8)
        img[..., 0] = np.arange(hw[1]) % 251
        img[..., 1] = (np.arange(hw[0]) % 251)[:, None]
        mask = np.zeros(hw + (3, ), np.uint8)
        for rgb, (y0, y1, x0, x1) in regions:
            mask[y0:y1, x0:x1] = rgb
        (root / split / 'images').mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(root / split / 'images' / 'part1.zip', 'a') as zf:
            zf.writestr(f'images/{name}.png', _png(img))
        if split != 'test':
            (root / split / 'Semantic_masks').mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(root / split / 'Semantic_masks' / 'images.zip',
                                 'a') as zf:
                zf.writestr(f'images/{name}_instance_color_RGB.png',
                            _png(cv2.cvtColor(mask, cv2.COLOR_RGB2BGR)))
    return dict(root=str(root), images=IMAGES)
