"""A tiny ISPRS Vaihingen (IRRG + DSM) in the official layout.

Areas 1 and 3 (training) and 2 (test), 80 x 96 px each (H x W), written without
geo-referencing like the originals: ``top`` IRRG uint8, ``dsm`` float32 heights
(250 + column index / 10), full and eroded colour-coded ground truth; the labels are
vertical stripes of the six classes (16 px each), and the eroded one has a black
boundary column at x = 16.
"""
import numpy as np
from PIL import Image

from eofm.datasets.vaihingen import VAIHINGEN_PALETTE

AREAS = (1, 2, 3)
SIZE = (80, 96)  # H, W
GT = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE'
GT_ERODED = 'ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE'


def class_map():
    h, w = SIZE
    return np.repeat((np.arange(w) // 16)[None], h, axis=0) % len(VAIHINGEN_PALETTE)


def make_vaihingen(root, areas=AREAS):
    """Write the fake Vaihingen under ``root``; returns the class map."""
    rng = np.random.default_rng(0)
    h, w = SIZE
    labels = class_map()
    colours = np.array(VAIHINGEN_PALETTE, np.uint8)[labels]
    eroded = colours.copy()
    eroded[:, 16] = 0
    for d in ('top', 'dsm', GT, GT_ERODED):
        (root / d).mkdir(parents=True, exist_ok=True)
    for n in areas:
        top = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        Image.fromarray(top).save(root / 'top' / f'top_mosaic_09cm_area{n}.tif')
        dsm = (250 + np.arange(w)[None] / 10 + np.zeros((h, 1))).astype(np.float32)
        Image.fromarray(
            dsm, mode='F').save(root / 'dsm' / f'dsm_09cm_matching_area{n}.tif')
        Image.fromarray(colours).save(root / GT / f'top_mosaic_09cm_area{n}.tif')
        Image.fromarray(eroded).save(root / GT_ERODED /
                                     f'top_mosaic_09cm_area{n}_noBoundary.tif')
    return labels
