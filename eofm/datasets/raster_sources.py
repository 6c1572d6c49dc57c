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
    dict(path='x.npz', format='npz', key='arr_0')      # one array of a NumPy archive
    dict(path='d.npz', format='npz', keys=['B2', 'B3'])  # one (H, W) array per band
    dict(path='t.h5', format='h5', key='sen2', axes='NHWC', index=17)  # sample 17 of
                                              # a channel-last stack (So2Sat LCZ42)
    dict(path='p.csv', format='csv')          # a one-pixel series: a row per date, a
                                              # column per band (TimeSen2Crop)

``axes`` names the stored axes when they are not (C, H, W) / (T, C, H, W): letters
of ``N`` (samples; ``index`` picks one), ``T``, ``C``, ``H``, ``W``. Such arrays (and
``keys`` stacks) are read whole for the sample, then reordered; canonical ``.npy``
and HDF5 arrays stay windowed.
"""
import os.path as osp

import numpy as np

from .geo_io import (RasterInfo, RasterReadError, _gdal, open_raster, raster_info,
                     read_footprint)

__all__ = [
    'RasterSource', 'GDALSource', 'ArraySource', 'open_source', 'SOURCE_FORMATS',
    'ARRAY_KEYS'
]

SOURCE_FORMATS = ('gdal', 'npy', 'npz', 'h5', 'csv')
# Keys of a modality description that select the array inside a file.
ARRAY_KEYS = ('format', 'key', 'keys', 'axes', 'index')


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
    """A NumPy ``.npy`` (memory-mapped) / ``.npz`` array, an HDF5 dataset (sliced) or
    a CSV table of a one-pixel series.

    Arrays are (H, W), (C, H, W) or (T, C, H, W) (a 4-D array's bands are
    date-major), or any order of those axes plus a sample axis named by ``axes``.
    Resampling to another size uses OpenCV (``cv2.resize``); there is no
    geo-referencing, so these sources are read by patch fraction.

    Args:
        path (str): The file.
        fmt (str): 'npy', 'npz', 'h5' or 'csv'.
        key (str, optional): The ``.npz`` array (default ``'arr_0'``) or HDF5 dataset.
        keys (Sequence[str], optional): Arrays stacked as bands, one each (instead
            of ``key``).
        axes (str, optional): The stored axes, e.g. ``'THWC'`` or ``'NHWC'``.
        index (int, optional): The sample to read along axis ``N``.
    """

    def __init__(self, path, fmt, key=None, keys=None, axes=None, index=None):
        if not osp.isfile(path):
            raise RasterReadError(f'{path}: file not found')
        self.path = path
        band_names = None
        try:
            if fmt == 'csv':
                array, band_names = self._read_csv(path)
            elif fmt == 'npy':
                array = np.load(path, mmap_mode='r')
            else:
                store = np.load(path) if fmt == 'npz' else self._h5(path)
                names = list(keys) if keys else [
                    key if key is not None or fmt == 'h5' else 'arr_0'
                ]
                for name in names:
                    if name is None or name not in store:
                        raise RasterReadError(
                            f"{path}: {'HDF5 dataset' if fmt == 'h5' else 'array'} "
                            f'key {name!r} not found (the file has '
                            f'{sorted(store.keys())}); set "key" / "keys" in the '
                            'modality')
                if keys:
                    array = np.stack([np.asarray(store[n]) for n in names], axis=-3)
                    band_names = tuple(names)
                    axes = axes or ('CHW' if array.ndim == 3 else 'TCHW')
                else:
                    array = store[names[0]]
        except RasterReadError:
            raise
        except Exception as e:  # numpy/h5py raise many types for corrupt files
            raise RasterReadError(f'{path}: not a readable {fmt} array ({e})') from e
        self.array = self._canonical(array, axes, index)
        shape = tuple(self.array.shape)
        if len(shape) == 4:
            self.dates_first_shape = shape[:2]
        c = int(np.prod(shape[:-2]))
        if band_names is not None and len(shape) == 4:
            band_names = tuple(band_names) * shape[0]
        self.info = RasterInfo(
            path=path + (f':{key}' if key else ''),
            width=shape[-1],
            height=shape[-2],
            count=c,
            geotransform=None,
            crs_wkt='',
            band_names=band_names or ('', ) * c,
            nodata=(None, ) * c)

    def _h5(self, path):
        import h5py
        self._h5file = h5py.File(path, 'r')
        return self._h5file

    @staticmethod
    def _read_csv(path):
        """(T, C, 1, 1) values of a table with a row per date; the header (if any)
        names the bands."""
        with open(path, encoding='utf-8') as f:
            rows = [line.strip().split(',') for line in f if line.strip()]
        header = None
        try:
            float(rows[0][0])
        except ValueError:
            header, rows = tuple(c.strip() for c in rows[0]), rows[1:]
        values = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
        if values.ndim != 2 or not len(values):
            raise RasterReadError(f'{path}: expected a table with a row per date')
        return values[:, :, None, None], header

    def _canonical(self, array, axes, index):
        """``array`` as (C, H, W) or (T, C, H, W) (canonical arrays untouched)."""
        shape = tuple(array.shape)
        if axes is None:
            if len(shape) not in (3, 4):
                raise RasterReadError(
                    f'{self.path}: expected a (C, H, W) or (T, C, H, W) array, '
                    f'got shape {shape}; name other layouts with "axes"')
            if index is not None:
                raise RasterReadError(f'{self.path}: "index" needs an N axis in "axes"')
            return array
        axes = axes.upper()
        if (len(axes) != len(shape) or len(set(axes)) != len(axes)
                or set(axes) - set('NTCHW') or not {'H', 'W'} <= set(axes)):
            raise RasterReadError(
                f'{self.path}: axes {axes!r} do not describe shape {shape} (letters '
                'of N, T, C, H, W, each once, H and W required)')
        if 'N' not in axes and index is not None:
            raise RasterReadError(f'{self.path}: "index" needs an N axis in "axes"')
        if 'N' in axes:
            n = axes.index('N')
            if index is None or not 0 <= int(index) < shape[n]:
                raise RasterReadError(f'{self.path}: axes {axes!r} need an "index" in '
                                      f'[0, {shape[n]}), got {index!r}')
            array = array[(slice(None), ) * n + (int(index), )]
            axes = axes.replace('N', '')
        array = np.asarray(array)
        if 'C' not in axes:
            array, axes = array[..., None], axes + 'C'
        order = [axes.index(a) for a in 'TCHW' if a in axes]
        return np.ascontiguousarray(array.transpose(order))

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
            'npz', 'h5', 'csv'), and for arrays ``key`` / ``keys``, ``axes``,
            ``index`` (see :class:`ArraySource`).
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
    return ArraySource(desc['path'], fmt, desc.get('key'), desc.get('keys'),
                       desc.get('axes'), desc.get('index'))
