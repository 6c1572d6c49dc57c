"""A tiny LEVIR-CD in the official layout: 16 x 16 px RGB PNG pairs.

Two train pairs, one val and one test. Image A is 40 (+ pair index), image B 200;
the labels are 0 with a 255 square at rows/columns 4-7.
"""
import cv2
import numpy as np

SPLITS = dict(train=2, val=1, test=1)


def make_levir_cd(root):
    """Write the fake dataset under ``root``; returns the sample counts per split."""
    for split, n in SPLITS.items():
        for sub in ('A', 'B', 'label'):
            (root / split / sub).mkdir(parents=True)
        for i in range(1, n + 1):
            name = f'{split}_{i}.png'
            label = np.zeros((16, 16), np.uint8)
            label[4:8, 4:8] = 255
            cv2.imwrite(
                str(root / split / 'A' / name), np.full((16, 16, 3), 40 + i, np.uint8))
            cv2.imwrite(
                str(root / split / 'B' / name), np.full((16, 16, 3), 200, np.uint8))
            cv2.imwrite(str(root / split / 'label' / name), label)
    return SPLITS
