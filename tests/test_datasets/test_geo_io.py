"""eofm.datasets.geo_io: one dataset read for all bands gives the band-by-band
pixels; the raster info of a file is reused only while the file is unchanged."""
import os
import time

import numpy as np
import pytest

from eofm.datasets import geo_io
from eofm.datasets.geo_io import (RasterReadError, open_raster, raster_info,
                                  read_footprint, write_geotiff)

RESAMPLINGS = ('nearest', 'bilinear', 'cubic', 'average')


def _band_by_band(ds, info, bounds, out_size, bands, resample):
    """The reference: one read per band (the path taken for mixed data types)."""
    return np.stack([
        read_footprint(ds, info, bounds, out_size, [b], resample)[0] for b in bands
    ])


@pytest.fixture
def series(tmp_path):
    """A 110-band uint16 series and a 12-band float32 raster with NaN nodata, as the
    sample data and real Sentinel-1 archives store them."""
    rng = np.random.default_rng(0)
    s2 = write_geotiff(
        str(tmp_path / 's2.tif'),
        rng.integers(0, 10000, (110, 37, 41)).astype(np.uint16), (500000.0, 4000370.0),
        10.0, 32631, block=16, compress='DEFLATE')
    s1 = rng.normal(size=(12, 29, 31)).astype(np.float32)
    s1[:, 3:7, 5:9] = np.nan
    s1 = write_geotiff(
        str(tmp_path / 's1.tif'), s1, (500000.0, 4000290.0), 10.0, 32631, nodata=np.nan)
    return s2, s1


@pytest.mark.parametrize('resample', RESAMPLINGS)
def test_one_read_for_all_bands_equals_band_by_band(series, resample):
    for path in series:
        ds = open_raster(path)
        info = raster_info(ds)
        x0, y0, x1, y1 = info.bounds
        cases = [
            (info.bounds, None),  # the native grid
            ((x0 + 13.0, y0 + 27.0, x1 - 41.0, y1 - 6.0), (9, 7)),  # fractional, down
            ((x0 + 3.0, y0 + 3.0, x0 + 83.0, y0 + 63.0), (31, 23)),  # up-sampled
        ]
        band_sets = [range(info.count), [info.count - 1, 0, 5], [2]]
        for bounds, out_size in cases:
            for bands in band_sets:
                got = read_footprint(ds, info, bounds, out_size, bands, resample)
                want = _band_by_band(ds, info, bounds, out_size, bands, resample)
                assert got.dtype == want.dtype and got.shape == want.shape
                assert got.shape[0] == len(bands)
                np.testing.assert_array_equal(got, want)


def test_mixed_band_types_read_band_by_band(tmp_path):
    """A VRT of a uint8 and a float32 file keeps NumPy's promotion of the bands."""
    from osgeo import gdal
    a = write_geotiff(
        str(tmp_path / 'a.tif'), np.arange(64, dtype=np.uint8).reshape(8, 8),
        (0.0, 80.0), 10.0, 32631)
    b = write_geotiff(
        str(tmp_path / 'b.tif'), np.full((8, 8), 0.5, np.float32), (0.0, 80.0), 10.0,
        32631)
    ds = gdal.BuildVRT('', [a, b], separate=True)
    info = raster_info(ds)
    out = read_footprint(ds, info, info.bounds)
    assert out.dtype == np.float32 and out.shape == (2, 8, 8)
    assert out[0, 1, 2] == 10 and out[1].min() == 0.5


def test_raster_info_is_reused_until_the_file_changes(tmp_path):
    path = str(tmp_path / 'x.tif')
    write_geotiff(path, np.zeros((2, 4, 4), np.uint16), (0.0, 40.0), 10.0, 32631)
    fresh = raster_info(path)
    # a file written in the last seconds is read again each time (coarse file times)
    assert raster_info(path) is not fresh and raster_info(path) == fresh
    old = time.time() - 60
    os.utime(path, (old, old))
    first = raster_info(path)
    assert raster_info(path) is first  # unchanged: the same info, no GDAL query
    # the same file by another name: the cached numbers, under the name asked for
    other = str(tmp_path) + '/./x.tif'
    assert raster_info(other).path == other
    assert raster_info(other).crs_wkt == first.crs_wkt and raster_info(path) is first
    # rewritten with another CRS and nodata: the new file's info
    write_geotiff(path, np.zeros((2, 4, 4), np.uint16), (0.0, 40.0), 10.0, 3857,
                  nodata=0)
    os.utime(path, (old + 1, old + 1))
    second = raster_info(path)
    assert second is not first
    assert second.nodata == (0.0, 0.0) and first.nodata == (None, None)
    assert 'Pseudo-Mercator' in second.crs_wkt and 'UTM' in first.crs_wkt
    # an in-memory dataset is never cached, and the checks run on cached info too
    from osgeo import gdal
    mem = gdal.GetDriverByName('MEM').Create('', 4, 4, 1)
    assert raster_info(mem, require_geotransform=False).geotransform is None
    assert len(geo_io._INFO_CACHE) <= geo_io._INFO_CACHE_SIZE
    with pytest.raises(RasterReadError, match='no geotransform'):
        raster_info(mem)
