"""A tiny FLAIR-1/FLAIR-2 in the official layout.

Train: D004_2021/Z1_NN with IMG_000001 and IMG_000002, D013_2020/Z2_UA with
IMG_000003; test: D064_2021/Z5_AA with IMG_000004. Aerial patches are 16 x 16 px
(0.2 m, 5 bands, uint8, band ``b`` = 10 * (b + 1)); masks have the quadrants 1, 5
(top), 13, 19 (bottom). Each zone has a Sentinel-2 super-area of 3 dates x 10 bands x
48 x 48 px with value 1000 * t + 100 * c + (y + x) % 100, cloud probabilities 80
on the second date and 0 elsewhere, and products of 2021-01-14, 2021-04-03,
2021-09-12.
"""
import json

import numpy as np

from tests.helpers.fake_geo import write_geotiff

PATCHES = dict(
    train=[('D004_2021', 'Z1_NN', '000001'), ('D004_2021', 'Z1_NN', '000002'),
           ('D013_2020', 'Z2_UA', '000003')],
    test=[('D064_2021', 'Z5_AA', '000004')])
DIRS = dict(
    train=('flair_aerial_train', 'flair_labels_train', 'flair_sen_train'),
    test=('flair_2_aerial_test', 'flair_2_labels_test', 'flair_2_sen_test'))
CENTROIDS = {
    '000001': [20, 24],
    '000002': [3, 45],
    '000003': [24, 24],
    '000004': [24, 24]
}
PRODUCTS = [
    'S2A_MSIL2A_20210114T104309_N0214_R008_T31TFN_20210114T124715',
    'S2B_MSIL2A_20210403T103619_N0300_R008_T31TFN_20210403T125010',
    'S2A_MSIL2A_20210912T103631_N0301_R008_T31TFN_20210912T134127'
]


def super_area():
    t, c, y, x = np.meshgrid(
        np.arange(3), np.arange(10), np.arange(48), np.arange(48), indexing='ij')
    return (1000 * t + 100 * c + (y + x) % 100).astype(np.uint16)


def mask_array():
    m = np.empty((16, 16), np.uint8)
    m[:8, :8], m[:8, 8:], m[8:, :8], m[8:, 8:] = 1, 5, 13, 19
    return m


def make_flair(root):
    """Write the fake dataset under ``root``; returns the patches per split."""
    centroids = {}
    for split, patches in PATCHES.items():
        img_dir, msk_dir, sen_dir = DIRS[split]
        for k, (domain, zone, pid) in enumerate(patches):
            img = root / img_dir / domain / zone / 'img'
            msk = root / msk_dir / domain / zone / 'msk'
            sen = root / sen_dir / domain / zone / 'sen'
            for folder in (img, msk, sen):
                folder.mkdir(parents=True, exist_ok=True)
            origin = (700000.0 + 10 * k, 6600000.0)
            aerial = (10 * np.arange(1, 6)[:, None, None] + np.zeros((5, 16, 16)))
            write_geotiff(
                img / f'IMG_{pid}.tif', aerial.astype(np.uint8), origin, 0.2, epsg=2154)
            write_geotiff(msk / f'MSK_{pid}.tif', mask_array(), origin, 0.2, epsg=2154)
            stem = sen / f'SEN2_sp_{domain}-{zone}'
            np.save(f'{stem}_data.npy', super_area())
            probs = np.zeros((3, 2, 48, 48), np.uint8)
            probs[1, 0] = 80
            np.save(f'{stem}_masks.npy', probs)
            (sen / f'{stem.name}_products.txt').write_text('\n'.join(PRODUCTS) + '\n')
            centroids[f'IMG_{pid}.tif'] = CENTROIDS[pid]
    (root / 'flair-2_centroids_sp_to_patch.json').write_text(json.dumps(centroids))
    return PATCHES


def make_flair_full_size(root):
    """:func:`make_flair` with full-size 512 x 512 px aerial patches (5 bands of
    value 10, 20, ..., 50) and masks (classes 1-13 in 128 px blocks, "other" (19) in
    the top-left 64 px), for configs that crop 100 m (500 px) tiles."""
    make_flair(root)
    size = 512
    rows, cols = np.mgrid[:size, :size]
    mask = (1 + (rows // 128 + cols // 128) % 13).astype(np.uint8)
    mask[:64, :64] = 19
    aerial = (10 * np.arange(1, 6)[:, None, None] + np.zeros((5, size, size)))
    for split, patches in PATCHES.items():
        img_dir, msk_dir, _ = DIRS[split]
        for k, (domain, zone, pid) in enumerate(patches):
            origin = (700000.0 + 10 * k, 6600000.0)
            write_geotiff(
                root / img_dir / domain / zone / 'img' / f'IMG_{pid}.tif',
                aerial.astype(np.uint8),
                origin,
                0.2,
                epsg=2154)
            write_geotiff(
                root / msk_dir / domain / zone / 'msk' / f'MSK_{pid}.tif',
                mask,
                origin,
                0.2,
                epsg=2154)
