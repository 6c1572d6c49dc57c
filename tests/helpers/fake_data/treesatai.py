"""A tiny TreeSatAI / TreeSatAI-TS in the official layouts (60 m tiles at 2 m)."""
import json

import numpy as np
from tests.helpers.fake_geo import write_geotiff

# tile -> genus proportions (Picea's 0.05 is under the 0.07 threshold)
LABELS = {
    'Abies_alba_1_1005_WEFL_NLF.tif': [['Abies', 0.8], ['Fagus', 0.15], ['Picea',
                                                                         0.05]],
    'Fagus_sylvatica_3_2211_WEFL_NLF.tif': [['Fagus', 1.0]],
    'Tilia_spec._9_99911_WEFL_NLF.tif': [['Tilia', 0.6], ['Quercus', 0.4]],
    'Quercus_robur_4_777_WEFL_NLF.tif': [['Quercus', 0.93], ['Pinus', 0.07]],
    'Cleared_0_4242_WEFL_NLF.tif': [['Cleared', 0.03]],  # no label above 0.07
}
SPLITS = dict(
    train=list(LABELS)[:3] + ['Cleared_0_4242_WEFL_NLF.tif'],
    val=[list(LABELS)[3]],
    test=[list(LABELS)[3]])
S2_PRODUCTS = [
    'S2A_MSIL2A_20190105T102421_N0211_R065_T32UNU_20190105T122418',
    'S2B_MSIL2A_20190412T103019_N0211_R108_T32UNU_20190412T133129',
    'S2A_MSIL2A_20190717T102031_N0213_R065_T32UNU_20190717T133048',
    'S2B_MSIL2A_20190930T103019_N0213_R108_T32UNU_20190930T135202',
]
S1_PRODUCTS = [
    'S1A_IW_GRDH_1SDV_20190103T053127_20190103T053152_025296_02CC34_7A2B',
    'S1B_IW_GRDH_1SDV_20190310T053046_20190310T053111_015267_01C90A_27D9',
    'S1A_IW_GRDH_1SDV_20190601T053131_20190601T053156_027521_031B2D_9E1A',
]
# UTM 32N (EPSG:25832): tile i's top-left corner is 1 km east of the previous one.
ORIGIN = (500000.0 - 30, 5800000.0 + 30)


def make_treesatai(root, time_series=False, size=30):
    """Write the tiles of :data:`SPLITS` in the TreeSatAI (or TreeSatAI-TS) layout.

    Aerial values are ``10 * (band + 1) + tile index``; the HDF5 series have
    ``len(S2_PRODUCTS)`` Sentinel-2 dates (values ``1000 * (band + 1)``), 3 ascending
    and 2 descending Sentinel-1 dates. Tile 0's centre is on UTM 32N's central
    meridian (lon 9). Returns the tile names in writing order.
    """
    import h5py
    aerial_dir = root / ('aerial' if time_series else 'aerial/60m')
    for d in (aerial_dir, root / 'labels', root / 'sentinel-ts', root / 's1/60m',
              root / 's2/60m'):
        d.mkdir(parents=True, exist_ok=True)
    for i, tile in enumerate(LABELS):
        origin = (ORIGIN[0] + 1000 * i, ORIGIN[1])
        aerial = (10 * np.arange(1, 5)[:, None, None] + i) * np.ones((1, size, size))
        write_geotiff(aerial_dir / tile, aerial.astype(np.uint8), origin, 60.0 / size,
                      25832)
        stem = tile[:-4]
        if not time_series:
            write_geotiff(root / 's1/60m' / tile, np.full((3, 6, 6), -12.0, np.float32),
                          origin, 10.0, 25832)
            write_geotiff(root / 's2/60m' / tile, np.full((12, 6, 6), 0.1, np.float32),
                          origin, 10.0, 25832)
            continue
        with h5py.File(root / 'sentinel-ts' / f'{stem}_2019.h5', 'w') as f:
            t = len(S2_PRODUCTS)
            s2 = 1000 * np.arange(1, 11)[None, :, None, None] * np.ones((t, 1, 6, 6))
            f['sen-2-data'] = s2.astype(np.int16)
            f['sen-2-masks'] = np.zeros((t, 2, 6, 6), np.uint8)
            f['sen-2-products'] = np.array(S2_PRODUCTS, dtype='S')
            for orbit, n in (('asc', 3), ('des', 2)):
                f[f'sen-1-{orbit}-data'] = np.full((n, 2, 6, 6), -15.0, np.float32)
                f[f'sen-1-{orbit}-products'] = np.array(S1_PRODUCTS[:n], dtype='S')
    (root / 'labels/TreeSatBA_v9_60m_multi_labels.json').write_text(json.dumps(LABELS))
    for split, tiles in SPLITS.items():
        if split == 'val' and not time_series:
            continue  # TreeSatAI has no validation split
        (root / f'{split}_filenames.lst').write_text('\n'.join(tiles) + '\n')
    return list(LABELS)
