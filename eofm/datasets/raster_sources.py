"""One interface over the file formats EO benchmarks ship: GDAL rasters, NumPy, HDF5.

A :class:`RasterSource` is a (C, H, W) stack of bands with optional geo-referencing.
The loading transform asks every source for the same region, either a ground
footprint (geo-referenced sources) or a fraction of the patch (``(fx0, fy0, fx1,
fy1)`` in [0, 1], for co-registered patches without geo-referencing, such as PASTIS'
``.npy`` series, TreeSatAI-TS' HDF5 series or LEVIR-CD's PNGs). Both reads are
windowed: GDAL decodes only the blocks under the window; ``.npy`` files are
memory-mapped and HDF5 datasets sliced, so only the window's bytes are read.

A modality description (one entry of a sample's ``modalities``, see
:class:`eofm.datasets.MultiModalDataset`) selects the source::

    dict(path='x.tif')                        # any GDAL raster (GeoTIFF, JP2, PNG...)
    dict(band_paths=['B02.tif', 'B03.tif'])   # one file per band (BigEarthNet, OSCD),
                                              # stacked by GDAL at the finest pixel
    dict(path='S2_1.npy', format='npy')       # (C, H, W) or (T, C, H, W) array
    dict(path='t.h5', format='h5', key='sen-2-data')   # an HDF5 dataset, same shapes
"""
import os.path as osp

import numpy as np

from .geo_io import (RasterInfo, RasterReadError, _gdal, open_raster, raster_info,
                     read_footprint)

__all__ = ['RasterSource', 'GDALSource', 'ArraySource', 'open_source', 'SOURCE_FORMATS']

SOURCE_FORMATS = ('gdal', 'npy', 'h5')


class RasterSource:
    """A (C, H, W) band stack; ``info.geotransform`` is None when not geo-referenced.

    Attributes:
        info (RasterInfo): Size, bands, nodata and (optional) geo-referencing.
        dates_first_shape (tuple | None): (T, C) when the file stores a 4-D series,
            whose bands are then numbered date-major (``t * C + c``).
    """

    info: RasterInfo
    dates_first_shape = None

    @property
    def georeferenced(self):
        return self.info.geotransform is not None

    def read_bounds(self, bounds, out_size, bands, resample):
        """Pixels under ground ``bounds`` (geo-referenced sources only)."""
        raise NotImplementedError

    def read_fraction(self, frac, out_size, bands, resample):
        """Pixels under the patch fraction ``frac`` = (fx0, fy0, fx1, fy1)."""
        raise NotImplementedError

    def frac_to_pixels(self, frac):
        """(x0, y0, x1, y1) pixel edges (floats) of a patch fraction."""
        w, h = self.info.width, self.info.height
        return frac[0] * w, frac[1] * h, frac[2] * w, frac[3] * h


class GDALSource(RasterSource):
    """A GDAL raster, or several single-band rasters stacked in an in-memory VRT."""

    def __init__(self, path=None, band_paths=None):
        gdal = _gdal()
        if band_paths:
            for p in band_paths:
                open_raster(p)  # a clear error for a missing or corrupt band file
            # VRT with one band per file at the finest resolution: BigEarthNet and
            # OSCD store 10, 20 and 60 m bands as separate files.
            self.ds = gdal.BuildVRT(
                '', list(band_paths), separate=True, resolution='highest')
            if self.ds is None:
                raise RasterReadError(f'{band_paths[0]}: the band files cannot be '
                                      'stacked (different CRS or extents?)')
            self.band_files = list(band_paths)
        else:
            self.ds = open_raster(path)
            self.band_files = None
        self.info = raster_info(self.ds, require_geotransform=False)
        if band_paths:
            # An in-memory VRT has no name: errors name the first band file.
            names = self.info.band_names
            if not any(names):
                names = tuple(osp.splitext(osp.basename(p))[0] for p in band_paths)
            self.info = RasterInfo(**{
                **self.info.__dict__, 'band_names': names,
                'path': band_paths[0]
            })

    def read_bounds(self, bounds, out_size, bands, resample):
        return read_footprint(self.ds, self.info, bounds, out_size, bands, resample)

    def read_fraction(self, frac, out_size, bands, resample):
        x0, y0, x1, y1 = self.frac_to_pixels(frac)
        # A pixel window is a footprint in the identity geotransform.
        pixel_info = RasterInfo(**{
            **self.info.__dict__, 'geotransform': (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
        })
        return read_footprint(self.ds, pixel_info, (x0, y0, x1, y1), out_size, bands,
                              resample)


class ArraySource(RasterSource):
    """A NumPy ``.npy`` file (memory-mapped) or an HDF5 dataset (sliced).

    Arrays are (H, W), (C, H, W) or (T, C, H, W); a 4-D array's bands are
    date-major.
    Resampling to another size uses OpenCV (``cv2.resize``); there is no
    geo-referencing, so these sources are read by patch fraction.
    """

    def __init__(self, path, fmt, key=None):
        if not osp.isfile(path):
            raise RasterReadError(f'{path}: file not found')
        self.path = path
        try:
            if fmt == 'npy':
                self.array = np.load(path, mmap_mode='r')
            else:
                import h5py
                self._h5 = h5py.File(path, 'r')
                if key is None or key not in self._h5:
                    raise RasterReadError(
                        f'{path}: HDF5 dataset key {key!r} not found (the file has '
                        f'{sorted(self._h5.keys())}); set "key" in the modality')
                self.array = self._h5[key]
        except RasterReadError:
            raise
        except Exception as e:  # numpy/h5py raise many types for corrupt files
            raise RasterReadError(f'{path}: not a readable {fmt} array ({e})') from e
        shape = tuple(self.array.shape)
        if len(shape) not in (3, 4):
            raise RasterReadError(
                f'{path}: expected a (C, H, W) or (T, C, H, W) array, '
                f'got shape {shape}')
        if len(shape) == 4:
            self.dates_first_shape = shape[:2]
        c = int(np.prod(shape[:-2]))
        self.info = RasterInfo(
            path=path + (f':{key}' if key else ''),
            width=shape[-1],
            height=shape[-2],
            count=c,
            geotransform=None,
            crs_wkt='',
            band_names=('', ) * c,
            nodata=(None, ) * c)

    def read_bounds(self, bounds, out_size, bands, resample):
        raise RasterReadError(f'{self.info.path}: an array has no geo-referencing; '
                              'it can only be read as a co-registered patch')

    def read_fraction(self, frac, out_size, bands, resample):
        import cv2
        x0, y0, x1, y1 = self.frac_to_pixels(frac)
        xi0, yi0 = int(np.floor(x0 + 1e-6)), int(np.floor(y0 + 1e-6))
        xi1, yi1 = int(np.ceil(x1 - 1e-6)), int(np.ceil(y1 - 1e-6))
        arr = self.array
        if arr.ndim == 4:
            t, c = arr.shape[:2]
            dates = sorted({b // c for b in bands})
            block = np.asarray(arr[dates[0]:dates[-1] + 1, :, yi0:yi1, xi0:xi1])
            block = block.reshape(-1, *block.shape[-2:])
            off = dates[0] * c
            data = block[[b - off for b in bands]]
        else:
            data = np.asarray(arr[:, yi0:yi1, xi0:xi1])[list(bands)]
        if out_size is None:
            return data
        h, w = out_size
        if data.shape[-2:] == (h, w):
            return data
        interp = dict(
            nearest=cv2.INTER_NEAREST,
            bilinear=cv2.INTER_LINEAR,
            cubic=cv2.INTER_CUBIC,
            average=cv2.INTER_AREA)[resample]
        out = np.empty((data.shape[0], h, w), dtype=np.float32)
        for i, band in enumerate(data):
            out[i] = cv2.resize(band.astype(np.float32), (w, h), interpolation=interp)
        return out


def open_source(desc, where):
    """The :class:`RasterSource` of one file of a modality description.

    Args:
        desc (dict): ``path`` / ``band_paths``, ``format`` ('gdal' default, 'npy',
            'h5') and ``key`` (HDF5 dataset).
        where (str): What is being opened, named in errors (sample and modality).
    """
    fmt = desc.get('format', 'gdal')
    if fmt not in SOURCE_FORMATS:
        raise ValueError(f'{where}: format must be one of {SOURCE_FORMATS}, got '
                         f'{fmt!r}')
    if desc.get('band_paths'):
        if fmt != 'gdal':
            raise ValueError(f"{where}: band_paths needs format 'gdal'")
        return GDALSource(band_paths=desc['band_paths'])
    if fmt == 'gdal':
        return GDALSource(desc['path'])
    return ArraySource(desc['path'], fmt, desc.get('key'))
