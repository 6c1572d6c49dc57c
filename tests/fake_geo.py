"""Small GeoTIFF writers for tests (the TorchGeo habit: tests make their own data)."""
import numpy as np


def write_geotiff(path, array, origin=(500000.0, 5000000.0), pixel=10.0, epsg=32632,
                  nodata=None, band_names=None):
    """Write ``array`` (C, H, W) as a north-up GeoTIFF; returns ``path`` as str."""
    from osgeo import gdal, osr
    gdal.UseExceptions()
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    types = {np.dtype('uint8'): gdal.GDT_Byte, np.dtype('uint16'): gdal.GDT_UInt16,
             np.dtype('int16'): gdal.GDT_Int16, np.dtype('float32'): gdal.GDT_Float32,
             np.dtype('float64'): gdal.GDT_Float64}
    c, h, w = array.shape
    ds = gdal.GetDriverByName('GTiff').Create(
        str(path), w, h, c, types[array.dtype], options=['TILED=YES', 'BLOCKXSIZE=16',
                                                         'BLOCKYSIZE=16'])
    ds.SetGeoTransform((origin[0], pixel, 0, origin[1], 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for i in range(c):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(array[i])
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if band_names:
            band.SetDescription(band_names[i])
    ds.FlushCache()
    ds = None
    return str(path)
