"""Tiny AID and NWPU-RESISC45 in their official folder-per-class layouts.

::

    root/AID/Airport/airport_1.jpg ...                 (30 classes)
    root/NWPU-RESISC45/airplane/airplane_001.jpg ...   (45 classes)

Each image is filled with a grey level equal to its class index times 5, so a test can
check that an image reached the right label.
"""
from pathlib import Path

import cv2
import numpy as np

from eofm.datasets.scene_classification import AID_CLASSES, NWPU_RESISC45_CLASSES


def _write(root, classes, per_class, size, name_fmt):
    for label, cls in enumerate(classes):
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        img = np.full((size, size, 3), label * 5, np.uint8)
        for i in range(1, per_class + 1):
            cv2.imwrite(str(folder / name_fmt.format(cls.lower(), i)), img)
    return dict(root=str(root), classes=classes, per_class=per_class, size=size)


def make_aid(root, per_class=5, size=64):
    """``root/AID/<Class>/<class>_<i>.jpg`` (official AID names, 600 px in reality)."""
    return _write(Path(root) / 'AID', AID_CLASSES, per_class, size, '{}_{}.jpg')


def make_nwpu_resisc45(root, per_class=10, size=32):
    """``root/NWPU-RESISC45/<class>/<class>_<iii>.jpg`` (256 px in reality)."""
    return _write(
        Path(root) / 'NWPU-RESISC45', NWPU_RESISC45_CLASSES, per_class, size,
        '{}_{:03d}.jpg')
