"""Tiny SEN12MS and SEN12MS-CR trees in the official layouts (8 x 8 px patches).

SEN12MS: ROIs1158_spring scenes 1 and 2, ROIs2017_winter scene 5, patches p10 and
p11 each; ``splits/train_list.txt`` lists scene 1 (both patches) and winter 5 p10,
``splits/test_list.txt`` winter 5 p11, ``splits/holdout.txt`` the scene
``ROIs1158_spring/s1_2``. The IGBP layer has the rows 0, 1, 10, 13, 17, 6, 9, 16.
SEN12MS-CR: ROIs1158_spring scenes 17 (val), 31 (test) and 50 (train), p1 each.
"""
import numpy as np

from tests.helpers.fake_geo import write_geotiff

SEN12MS_PATCHES = [('ROIs1158_spring', 1, 10), ('ROIs1158_spring', 1, 11),
                   ('ROIs1158_spring', 2, 10), ('ROIs1158_spring', 2, 11),
                   ('ROIs2017_winter', 5, 10), ('ROIs2017_winter', 5, 11)]
IGBP_ROWS = [0, 1, 10, 13, 17, 6, 9, 16]
CR_PATCHES = [('ROIs1158_spring', 17, 1), ('ROIs1158_spring', 31, 1),
              ('ROIs1158_spring', 50, 1)]


def _arrays():
    lc = np.zeros((4, 8, 8), np.uint16)
    lc[0] = np.array(IGBP_ROWS)[:, None]
    return dict(
        s1=np.full((2, 8, 8), -15.0, np.float32),
        s2=(1000 + 100 * np.arange(13)[:, None, None] + np.zeros(
            (13, 8, 8))).astype(np.uint16),
        s2_cloudy=np.full((13, 8, 8), 9000, np.uint16),
        lc=lc)


def _write(root, patches, sources, season_dir):
    arrays = _arrays()
    for season, scene, patch in patches:
        for src in sources:
            folder = root / season_dir(season, src) / f'{src}_{scene}'
            folder.mkdir(parents=True, exist_ok=True)
            write_geotiff(folder / f'{season}_{src}_{scene}_p{patch}.tif', arrays[src],
                          (400000.0 + 100 * patch, 5000000.0 + 1000 * scene), 10.0)


def make_sen12ms(root):
    """Write the fake SEN12MS under ``root``; returns the patch keys."""
    _write(root, SEN12MS_PATCHES, ('s1', 's2', 'lc'), lambda season, src: season)
    (root / 'splits').mkdir()
    (root / 'splits' / 'train_list.txt').write_text(
        'ROIs1158_spring_s2_1_p10.tif\nROIs1158_spring_s2_1_p11.tif\n'
        'ROIs2017_winter_s2_5_p10.tif\n')
    (root / 'splits' / 'test_list.txt').write_text('ROIs2017_winter_s2_5_p11.tif\n')
    (root / 'splits' / 'holdout.txt').write_text('ROIs1158_spring/s1_2\n')
    return SEN12MS_PATCHES


def make_sen12ms_cr(root):
    """Write the fake SEN12MS-CR under ``root``; returns the patch keys."""
    _write(root, CR_PATCHES, ('s1', 's2', 's2_cloudy'),
           lambda season, src: f'{season}_{src}')
    return CR_PATCHES
