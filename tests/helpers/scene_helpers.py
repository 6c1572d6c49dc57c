"""A generated multi-sensor, multi-temporal scene for scene-inference tests.

:func:`make_multisensor_scene` writes, over one square area in UTM zone 32N:

* a high-resolution image (``hr``, 1 m, uint8, 0 = nodata) with a strip without data
  along its western edge;
* a Sentinel-2 series (``s2``, 10 m, uint16 digital numbers, one file per date);
* a Sentinel-1 series (``s1``, 10 m, float32 linear backscatter) stored in the
  neighbouring zone 31N, so that scene inference has to warp it.

Every layer shows the same field pattern (a few classes in blocks), with noise, so
that models see structure. The returned descriptions are scene ``modalities``
entries; a test names them as its config does (e.g. ``spot=hr['hr']``).
"""
import numpy as np
from osgeo import gdal

from tests.helpers.fake_geo import write_geotiff

__all__ = ['make_multisensor_scene', 'S2_BANDS_10', 'S2_BANDS_13']

S2_BANDS_10 = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
S2_BANDS_13 = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09',
               'B10', 'B11', 'B12']
S1_DATES = ('2021-01-11', '2021-04-17', '2021-08-02')
S2_DATES = ('2021-01-05', '2021-03-16', '2021-06-14', '2021-09-22')


def _fields(shape, cell, rng, n_classes=4):
    """(h, w) class ids constant over blocks of ``cell`` px."""
    gh, gw = -(-shape[0] // cell), -(-shape[1] // cell)
    blocks = rng.integers(0, n_classes, (gh, gw))
    return np.kron(blocks, np.ones((cell, cell), int))[:shape[0], :shape[1]]


def make_multisensor_scene(root,
                           size_m=320,
                           hr_pixel=1.0,
                           s_pixel=10.0,
                           hr_bands=('R', 'G', 'B'),
                           s2_bands=S2_BANDS_10,
                           s1_bands=('VV', 'VH'),
                           s2_dates=S2_DATES,
                           s1_dates=S1_DATES,
                           nodata_strip_m=20,
                           origin=(290000.0, 5000000.0),
                           epsg=32632,
                           s1_epsg=32631,
                           seed=0):
    """Write the scene under ``root``; returns ``dict(hr=..., s2=..., s1=...)``
    modality descriptions, plus ``bounds`` (xmin, ymin, xmax, ymax in ``epsg``).

    ``origin`` is the north-west corner (easting, northing) in ``epsg``; the S1
    rasters cover the area plus a margin of four pixels after reprojection to
    ``s1_epsg``, so the warped series has data over the whole area.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    x0, y1 = origin
    cell_m = 40  # fields of 40 m: whole Sentinel pixels and 1 m HR pixels
    n_hr = int(round(size_m / hr_pixel))
    n_s = int(round(size_m / s_pixel))
    # the pattern on the 10 m grid, repeated onto the HR grid
    classes = _fields((n_s, n_s), int(cell_m / s_pixel), rng)
    rep = int(round(s_pixel / hr_pixel))
    hr_classes = np.kron(classes, np.ones((rep, rep), int))
    colours = rng.integers(30, 220, (4, len(hr_bands)))
    hr = colours[hr_classes].transpose(2, 0, 1) + rng.integers(-20, 20, (len(hr_bands),
                                                                        n_hr, n_hr))
    hr = np.clip(hr, 1, 255).astype(np.uint8)
    hr[:, :, :int(round(nodata_strip_m / hr_pixel))] = 0
    out = dict(bounds=(x0, y1 - size_m, x0 + size_m, y1))
    out['hr'] = dict(path=write_geotiff(root / 'hr.tif', hr, origin, hr_pixel, epsg,
                                        nodata=0, band_names=list(hr_bands)))
    refl = rng.integers(300, 4000, (4, len(s2_bands)))
    paths = []
    for k, date in enumerate(s2_dates):
        season = 1.0 + 0.2 * np.sin(k)
        x = refl[classes].transpose(2, 0, 1) * season + rng.normal(0, 50, (len(
            s2_bands), n_s, n_s))
        x = np.clip(x, 1, 10000).astype(np.uint16)
        paths.append(write_geotiff(root / f's2_{date}.tif', x, origin, s_pixel, epsg,
                                   nodata=0, band_names=list(s2_bands)))
    out['s2'] = dict(paths=paths, dates=list(s2_dates))
    # S1 over a margin, written in the scene's zone (in memory), warped to s1_epsg
    margin = 4
    n_m = n_s + 2 * margin
    classes_m = np.pad(classes, margin, mode='edge')
    sigma = rng.uniform(0.01, 0.3, (4, len(s1_bands)))
    paths = []
    for k, date in enumerate(s1_dates):
        x = sigma[classes_m].transpose(2, 0, 1) * rng.gamma(4.0, 0.25, (len(s1_bands),
                                                                       n_m, n_m))
        tmp = write_geotiff(root / f's1_{date}_utm{epsg}.tif', x.astype(np.float32),
                            (x0 - margin * s_pixel, y1 + margin * s_pixel), s_pixel,
                            epsg, band_names=list(s1_bands))
        path = str(root / f's1_{date}.tif')
        gdal.Warp(path, tmp, dstSRS=f'EPSG:{s1_epsg}', xRes=s_pixel, yRes=s_pixel,
                  resampleAlg='bilinear', dstNodata=np.nan,
                  creationOptions=['TILED=YES', 'BLOCKXSIZE=16', 'BLOCKYSIZE=16'])
        src = gdal.Open(tmp)
        ds = gdal.Open(path, gdal.GA_Update)
        for b in range(ds.RasterCount):
            ds.GetRasterBand(b + 1).SetDescription(
                src.GetRasterBand(b + 1).GetDescription())
        ds = None
        paths.append(path)
    out['s1'] = dict(paths=paths, dates=list(s1_dates))
    return out
