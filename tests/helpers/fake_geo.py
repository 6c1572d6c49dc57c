"""Small GeoTIFF writers for tests (the TorchGeo habit: tests make their own data)."""
from eofm.datasets.geo_io import write_geotiff as _write_geotiff


def write_geotiff(path,
                  array,
                  origin=(500000.0, 5000000.0),
                  pixel=10.0,
                  epsg=32632,
                  nodata=None,
                  band_names=None):
    """Write ``array`` (C, H, W) as a north-up GeoTIFF in 16 px tiles; returns
    ``path`` as str (UTM 32N, 10 m pixels unless told otherwise)."""
    return _write_geotiff(
        path,
        array,
        origin,
        pixel,
        epsg,
        nodata=nodata,
        band_names=band_names,
        block=16)
