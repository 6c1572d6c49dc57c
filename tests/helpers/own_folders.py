"""Folders of rasters as users have them: Sentinel-2 L2A series named as the archive
names them (two tiles, EPSG:32632), a Sentinel-1 GRD series in the neighbouring UTM
zone (EPSG:32631, 20 m), per-band HR files (2.5 m) and label rasters; with the
folder patterns that describe them (``MODALITIES``, ``LABELS``)."""
import numpy as np
from osgeo import osr

from tests.helpers.fake_geo import write_geotiff

S2_NAME = 'S2A_MSIL2A_{d}T103421_N0214_R108_{tile}_{d}T124851.tif'
S1_NAME = 'S1A_IW_GRDH_1SDV_{d}T053412_{d}T053437_036012_043856_5C1F.tif'
REGIONS = {'T32TQM': (300000.0, 5000640.0), 'T32TPM': (301280.0, 5000640.0)}
S2_DATES = ('20210105', '20210215', '20210320')
S1_DATES = ('20210107', '20210219')
S2_BANDS = ['B2', 'B3', 'B4', 'B8']
SIZE = 64  # reference pixels per side (10 m)


def _s2_values(t, region_index):
    """(4, 64, 64) uint16: date, band, region and pixel recoverable from the value."""
    y, x = np.mgrid[:SIZE, :SIZE]
    return np.stack([
        t * 10000 + b * 2500 + region_index * 20000 // 4 + y * SIZE + x
        for b in range(4)
    ]).astype(np.uint16)


def _label(region_index):
    y, x = np.mgrid[:SIZE, :SIZE]
    return ((y // 8 + x // 8 + region_index) % 4).astype(np.uint8)


def _transform(x, y, src_epsg, dst_epsg):
    a, b = osr.SpatialReference(), osr.SpatialReference()
    a.ImportFromEPSG(src_epsg)
    b.ImportFromEPSG(dst_epsg)
    for s in (a, b):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(a, b).TransformPoint(x, y)[:2]


# Sentinel-1 in the neighbouring UTM zone (31N), 20 m, covering both regions: VV and
# VH are linear in the zone-31 easting / northing, so a warped read can be checked.


def _s1_origin():
    corners = [
        _transform(x, y, 32632, 32631) for x in (299000.0, 303500.0)
        for y in (4999000.0, 5001700.0)
    ]
    return (min(c[0] for c in corners), max(c[1] for c in corners))


def _s1_expected(e31, n31, origin, t):
    return (e31 - origin[0]) / 10.0 + 100 * t, (origin[1] - n31) / 10.0 + 100 * t


def _realistic_s2(t, region_index):
    """(4, 64, 64) uint16 L2A digital numbers whose level follows the class."""
    y, x = np.mgrid[:SIZE, :SIZE]
    cls = _label(region_index).astype(np.int64)
    return np.stack([
        200 + 600 * cls + 150 * b + 40 * t + (y * 7 + x * 13) % 200 for b in range(4)
    ]).astype(np.uint16)


def write_folders(root, drop_band=None, realistic=False):
    """S2 L2A series (EPSG:32632, archive names, two tiles), S1 GRD series in
    EPSG:32631, per-band HR files (2.5 m) and label rasters.

    The values encode date, band, region and pixel (so that reads can be checked);
    ``realistic=True`` writes values in the sensors' ranges instead (S2 digital
    numbers 200-3200 with the class of the label raster in them, S1 linear
    backscatter 0.005-0.3), for runs that normalise and train."""
    for sub in ('s2', 's1', 'hr', 'labels'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for r, (tile, origin) in enumerate(REGIONS.items()):
        for t, d in enumerate(S2_DATES):
            write_geotiff(
                root / 's2' / S2_NAME.format(d=d, tile=tile),
                _realistic_s2(t, r) if realistic else _s2_values(t, r),
                origin,
                10.0,
                32632,
                band_names=S2_BANDS)
        y, x = np.mgrid[:SIZE * 4, :SIZE * 4]
        for b, band in enumerate('RGB'):
            if (tile, band) == drop_band:
                continue
            write_geotiff(root / 'hr' / f'{tile}_{band}.tif',
                          ((x // 4 + y // 4 + 50 * b) % 256).astype(np.uint8), origin,
                          2.5, 32632)
        write_geotiff(root / 'labels' / f'{tile}.tif', _label(r), origin, 10.0, 32632)
    origin = _s1_origin()
    n = 300
    y, x = np.mgrid[:n, :n]
    for t, d in enumerate(S1_DATES):
        e31, n31 = origin[0] + (x + 0.5) * 20, origin[1] - (y + 0.5) * 20
        vv, vh = _s1_expected(e31, n31, origin, t)
        if realistic:
            vv, vh = 0.02 + (vv % 300) / 1200.0, 0.005 + (vh % 300) / 4000.0
        write_geotiff(
            root / 's1' / S1_NAME.format(d=d),
            np.stack([vv, vh]).astype(np.float32),
            origin,
            20.0,
            32631,
            band_names=['VV', 'VH'])
    (root / 's1' / 'README.txt').write_text('not a raster, not matched')
    return origin


MODALITIES = dict(
    s2=dict(dir='s2', pattern='S2?_MSIL2A_{date}_{}_{}_{region}_*.tif', bands=S2_BANDS),
    s1=dict(dir='s1', pattern='S1?_IW_GRDH_1SDV_{date}_*.tif', bands=['VV', 'VH']),
    hr=dict(dir='hr', pattern='{region}_{band}.tif', bands=['R', 'G', 'B']))
LABELS = dict(gt_seg_map=dict(dir='labels', pattern='{region}.tif'))


