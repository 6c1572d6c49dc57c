"""A tiny PASTIS / PASTIS-R / PASTIS-HD / PASTIS-MM in the official layout."""
import json

import numpy as np
from tests.helpers.fake_geo import write_geotiff

S2_DATES = [20180924, 20181009, 20181019, 20181103, 20181118, 20181203]
S1_DATES = [20180920, 20181002, 20181014, 20181026, 20181107]
# Lambert-93's projection centre: (700000, 6600000) is lon 3, lat 46.5 exactly.
CENTRE = (700000.0, 6600000.0)


def seg_value(patch, row, col):
    """Semantic class written at (row, col) of patch index ``patch``."""
    return (row + col + patch) % 20


def make_pastis(root, n_patches=3, size=16, n_dates=(4, 5, 6), hr_scale=4):
    """Write ``n_patches`` patches (fold ``i + 1``, ID_PATCH ``10000 + i``).

    S2 values are ``100 * (band + 1) + date`` (int16), S1 values ``-(band + 1)`` dB,
    TARGET channel 0 is :func:`seg_value`, INSTANCES ``1 + row // 4 * 10 + col // 4``;
    SPOT and HR images are ``hr_scale`` times finer. Patch 0 is centred on
    :data:`CENTRE`, patch i ``5 km * i`` east of it. Returns the patch ids.
    """
    dirs = ('DATA_S2', 'DATA_S1A', 'DATA_S1D', 'ANNOTATIONS', 'INSTANCE_ANNOTATIONS',
            'DATA_SPOT/PASTIS_SPOT6_RVB_1M00_2019', 'DATA_HR')
    for d in dirs:
        (root / d).mkdir(parents=True, exist_ok=True)
    features, ids = [], []
    half = size * 10 / 2
    for i in range(n_patches):
        pid, t = 10000 + i, n_dates[i % len(n_dates)]
        cx, cy = CENTRE[0] + 5000 * i, CENTRE[1]
        ring = [[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half],
                [cx - half, cy + half], [cx - half, cy - half]]
        features.append(
            dict(
                type='Feature',
                properties={
                    'ID_PATCH': pid,
                    'Fold': i % 5 + 1,
                    'N_Parcel': 4,
                    'TILE': 't31tfm',
                    'dates-S2': {
                        str(k): d
                        for k, d in enumerate(S2_DATES[:t])
                    },
                    'dates-S1A': {
                        str(k): d
                        for k, d in enumerate(S1_DATES)
                    },
                    'dates-S1D': {
                        str(k): d
                        for k, d in enumerate(S1_DATES[:3])
                    },
                },
                geometry=dict(type='MultiPolygon', coordinates=[[ring]])))
        s2 = (100 * np.arange(1, 11)[None, :, None, None] +
              np.arange(t)[:, None, None, None])
        np.save(root / f'DATA_S2/S2_{pid}.npy',
                np.broadcast_to(s2, (t, 10, size, size)).astype(np.int16))
        for orbit, n in (('S1A', len(S1_DATES)), ('S1D', 3)):
            s1 = -np.arange(1, 4, dtype=np.float32)[None, :, None, None]
            np.save(root / f'DATA_{orbit}/{orbit}_{pid}.npy',
                    np.broadcast_to(s1, (n, 3, size, size)).copy())
        rows, cols = np.mgrid[:size, :size]
        target = np.stack([seg_value(i, rows, cols), rows * 0 + 1, rows * 0])
        np.save(root / f'ANNOTATIONS/TARGET_{pid}.npy', target.astype(np.uint8))
        np.save(root / f'INSTANCE_ANNOTATIONS/INSTANCES_{pid}.npy',
                (1 + rows // 4 * 10 + cols // 4).astype(np.int32))
        hr = np.full((3, size * hr_scale, size * hr_scale), 10 * (i + 1), np.uint8)
        origin, pixel = (cx - half, cy + half), 10.0 / hr_scale
        write_geotiff(
            root / 'DATA_SPOT/PASTIS_SPOT6_RVB_1M00_2019' /
            f'SPOT6_RVB_1M00_2019_{pid}.tif',
            hr,
            origin,
            pixel,
            epsg=2154)
        write_geotiff(root / f'DATA_HR/HR_{pid}.tif', hr, origin, pixel, epsg=2154)
        ids.append(pid)
    meta = dict(
        type='FeatureCollection',
        crs=dict(type='name', properties=dict(name='urn:ogc:def:crs:EPSG::2154')),
        features=features)
    (root / 'metadata.geojson').write_text(json.dumps(meta))
    return ids
