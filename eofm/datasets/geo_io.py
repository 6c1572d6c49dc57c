"""GeoTIFF reading with GDAL: footprints, windowed reads, geo-metadata, dates.

Everything eofm reads from disk goes through these functions, so every error names
the file and what was expected. Reads are windowed: only the blocks under the
requested ground footprint are decoded (``gdal.Dataset.ReadAsArray`` with a source
window and a buffer size, which also resamples), never the whole scene.
"""
import calendar
import collections
import datetime
import os
import os.path as osp
import re
import stat
import time
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    'RasterInfo', 'RasterReadError', 'FootprintOutsideError', 'open_raster',
    'raster_info', 'read_footprint', 'check_window', 'footprint_bounds',
    'center_lonlat', 'parse_date', 'DATE_FORMS_HELP', 'day_of_year', 'write_geotiff',
    'transform_bounds', 'native_resolution', 'same_crs', 'crs_label'
]


class RasterReadError(ValueError):
    """A raster file cannot be used as the sample description says."""


class FootprintOutsideError(RasterReadError):
    """The requested ground footprint is not inside the raster."""


def _gdal():
    try:
        from osgeo import gdal
    except ImportError as e:  # pragma: no cover - the set-up installs GDAL
        raise ImportError('eofm reads rasters with GDAL: install libgdal-dev and '
                          'GDAL==$(gdal-config --version) (make setup)') from e
    gdal.UseExceptions()
    return gdal


@dataclass(frozen=True)
class RasterInfo:
    """What eofm needs to know about a raster file.

    Attributes:
        path (str): The file.
        width (int), height (int), count (int): Pixels and bands.
        geotransform (tuple | None): GDAL geotransform (x0, dx, rx, y0, ry, dy);
            None for rasters without geo-referencing.
        crs_wkt (str): Coordinate reference system as WKT ('' if none).
        band_names (tuple[str]): Band descriptions ('' where unset).
        nodata (tuple): Per-band nodata value or None.
    """
    path: str
    width: int
    height: int
    count: int
    geotransform: tuple
    crs_wkt: str
    band_names: tuple
    nodata: tuple

    @property
    def resolution(self):
        """Pixel size (x, y) in CRS units, both positive."""
        return abs(self.geotransform[1]), abs(self.geotransform[5])

    @property
    def bounds(self):
        """(xmin, ymin, xmax, ymax) in CRS units (north-up rasters)."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0, x0 + dx * self.width)
        ys = (y0, y0 + dy * self.height)
        return min(xs), min(ys), max(xs), max(ys)


def open_raster(path):
    """Open ``path`` with GDAL, or raise :class:`RasterReadError` naming the file."""
    gdal = _gdal()
    if not osp.isfile(path):
        raise RasterReadError(f'{path}: file not found')
    try:
        ds = gdal.Open(path, gdal.GA_ReadOnly)
    except RuntimeError as e:
        raise RasterReadError(f'{path}: not a readable raster ({e})') from e
    if ds is None or ds.RasterCount == 0:
        raise RasterReadError(f'{path}: not a readable raster (no bands)')
    return ds


#: :class:`RasterInfo` of files already read, by (path, mtime, size, inode): a
#: GeoTIFF's CRS is rebuilt as WKT from its geo-keys on every ``GetProjection``
#: (about 0.5 ms, a sixth of a sample's loading time on the sample dataset), and a
#: dataset opens the same files again and again. A rewritten file has a new key;
#: a file changed in the last seconds is not cached (file times are coarse, so a
#: rewrite at once could keep its key).
_INFO_CACHE = collections.OrderedDict()
_INFO_CACHE_SIZE = 4096
_INFO_CACHE_MIN_AGE_S = 2.0


def _file_key(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # an in-memory dataset (VRT, MEM) has no file
        return None
    recent = time.time() - st.st_mtime < _INFO_CACHE_MIN_AGE_S
    if not stat.S_ISREG(st.st_mode) or recent:
        return None
    return osp.abspath(path), st.st_mtime_ns, st.st_size, st.st_ino


def _read_info(ds, path):
    gt = ds.GetGeoTransform(can_return_null=True)
    bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    return RasterInfo(
        path=path,
        width=ds.RasterXSize,
        height=ds.RasterYSize,
        count=ds.RasterCount,
        geotransform=None if gt is None else tuple(gt),
        crs_wkt=ds.GetProjection() or '',
        band_names=tuple(b.GetDescription() for b in bands),
        nodata=tuple(b.GetNoDataValue() for b in bands))


def raster_info(ds_or_path, require_geotransform=True):
    """:class:`RasterInfo` of an open dataset or a path.

    Args:
        ds_or_path: An open GDAL dataset or a path.
        require_geotransform (bool): Raise for a raster without geo-referencing
            (PNG, JPEG); when False its ``geotransform`` is None.
    """
    ds = open_raster(ds_or_path) if isinstance(ds_or_path, str) else ds_or_path
    path = ds.GetDescription()
    key = _file_key(path) if path else None
    info = _INFO_CACHE.get(key) if key is not None else None
    if info is None:
        info = _read_info(ds, path)
        if key is not None:
            _INFO_CACHE[key] = info
            if len(_INFO_CACHE) > _INFO_CACHE_SIZE:
                _INFO_CACHE.popitem(last=False)
    else:
        _INFO_CACHE.move_to_end(key)
        if info.path != path:  # the same file by another name: errors name this one
            info = replace(info, path=path)
    gt = info.geotransform
    if gt is None and require_geotransform:
        raise RasterReadError(f'{path}: has no geotransform (not geo-referenced)')
    if gt is not None and (gt[2] != 0 or gt[4] != 0):
        raise RasterReadError(f'{path}: rotated geotransforms are not supported')
    return info


def check_window(info, window):
    """``window`` (x_off, y_off, width, height) if it lies inside the raster of
    ``info``, else :class:`RasterReadError` naming the file."""
    x_off, y_off, w, h = window
    if x_off < 0 or y_off < 0 or w <= 0 or h <= 0 \
            or x_off + w > info.width or y_off + h > info.height:
        raise RasterReadError(
            f'{info.path}: window {tuple(window)} is outside the raster '
            f'({info.width} x {info.height} px)')
    return x_off, y_off, w, h


def footprint_bounds(info, window=None):
    """Ground bounds (xmin, ymin, xmax, ymax) of a pixel ``window`` of ``info``.

    Args:
        info (RasterInfo): The reference raster.
        window (tuple, optional): (x_off, y_off, width, height) in its pixels;
            the whole raster when None.
    """
    if window is None:
        return info.bounds
    x_off, y_off, w, h = check_window(info, window)
    x0, dx, _, y0, _, dy = info.geotransform
    xs = (x0 + dx * x_off, x0 + dx * (x_off + w))
    ys = (y0 + dy * y_off, y0 + dy * (y_off + h))
    return min(xs), min(ys), max(xs), max(ys)


def read_footprint(ds,
                   info,
                   bounds,
                   out_size=None,
                   band_indices=None,
                   resample='bilinear'):
    """Read the pixels of ``ds`` under ground ``bounds``, resampled to ``out_size``.

    Args:
        ds: An open GDAL dataset.
        info (RasterInfo): Its info.
        bounds (tuple): (xmin, ymin, xmax, ymax) in the raster's CRS; must lie inside
            the raster (clipped footprints are the caller's decision).
        out_size (tuple, optional): (height, width) of the result; the native pixel
            grid of the footprint when None.
        band_indices (Sequence[int], optional): 0-based bands to read; all if None.
        resample (str): 'nearest', 'bilinear', 'cubic' or 'average'.

    Returns:
        np.ndarray: (C, H, W) in the file's data type.
    """
    gdal = _gdal()
    x0, dx, _, y0, _, dy = info.geotransform
    # Fractional source window: GDAL reads only the blocks it covers.
    xs = sorted(((bounds[0] - x0) / dx, (bounds[2] - x0) / dx))
    ys = sorted(((bounds[1] - y0) / dy, (bounds[3] - y0) / dy))
    eps = 1e-6
    if xs[0] < -eps or ys[0] < -eps or xs[1] > info.width + eps \
            or ys[1] > info.height + eps:
        raise FootprintOutsideError(
            f'{info.path}: footprint {tuple(round(v, 3) for v in bounds)} is not '
            f'inside the raster bounds {tuple(round(v, 3) for v in info.bounds)}')
    xoff, yoff = max(xs[0], 0.0), max(ys[0], 0.0)
    xsize, ysize = min(xs[1], info.width) - xoff, min(ys[1], info.height) - yoff
    if out_size is None:
        out_size = (max(int(round(ysize)), 1), max(int(round(xsize)), 1))
    algs = dict(
        nearest=gdal.GRIORA_NearestNeighbour,
        bilinear=gdal.GRIORA_Bilinear,
        cubic=gdal.GRIORA_Cubic,
        average=gdal.GRIORA_Average)
    if resample not in algs:
        raise ValueError(f'resample must be one of {sorted(algs)}, got {resample!r}')
    band_indices = range(info.count) if band_indices is None else band_indices
    bands = [int(b) + 1 for b in band_indices]
    kwargs = dict(
        xoff=xoff,
        yoff=yoff,
        buf_xsize=out_size[1],
        buf_ysize=out_size[0],
        resample_alg=algs[resample])
    types = {ds.GetRasterBand(b).DataType for b in bands}
    if len(bands) > 1 and len(types) == 1:
        # all bands in one dataset read: one call instead of one per band (a series
        # of 100+ bands reads 2-10x faster; the same pixels, checked by the tests);
        # on an error the band-by-band read below names the band
        try:
            arr = ds.ReadAsArray(xsize=xsize, ysize=ysize, band_list=bands, **kwargs)
        except RuntimeError:
            arr = None
        if arr is not None:
            return arr
    out = []
    for b in bands:
        band = ds.GetRasterBand(b)
        try:
            arr = band.ReadAsArray(win_xsize=xsize, win_ysize=ysize, **kwargs)
        except RuntimeError as e:
            raise RasterReadError(f'{info.path}: band {b} cannot be read, the '
                                  f'file may be truncated or corrupt ({e})') from e
        if arr is None:
            raise RasterReadError(f'{info.path}: band {b} cannot be read, the '
                                  'file may be truncated or corrupt')
        out.append(arr)
    return np.stack(out, axis=0)


def center_lonlat(info, bounds=None):
    """(lon, lat) in degrees (WGS84) of the centre of ``bounds`` (or the raster)."""
    from osgeo import osr
    bounds = info.bounds if bounds is None else bounds
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    if not info.crs_wkt:
        raise RasterReadError(f'{info.path}: has no CRS, cannot compute lat/lon')
    src = osr.SpatialReference()
    src.ImportFromWkt(info.crs_wkt)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(4326)
    for srs in (src, dst):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(src, dst).TransformPoint(cx, cy)
    return float(lon), float(lat)


def _srs(wkt):
    from osgeo import osr
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def same_crs(wkt_a, wkt_b):
    """True when two WKT strings describe the same CRS (osr ``IsSame``)."""
    if not wkt_a or not wkt_b:
        return wkt_a == wkt_b
    return bool(_srs(wkt_a).IsSame(_srs(wkt_b)))


def crs_label(wkt):
    """``'EPSG:32632'`` when the CRS has an EPSG code, else its name ('' if none)."""
    if not wkt:
        return ''
    srs = _srs(wkt)
    srs.AutoIdentifyEPSG()
    code = srs.GetAuthorityCode(None)
    return f'EPSG:{code}' if code else (srs.GetName() or 'unknown CRS')


def transform_bounds(bounds, src_wkt, dst_wkt, densify=21):
    """The bounding box in ``dst_wkt`` of the rectangle ``bounds`` of ``src_wkt``.

    The rectangle's edges are densified (``densify`` points each), so that the
    curved image of an edge in another projection (a neighbouring UTM zone, a
    geographic CRS) is enclosed.

    Args:
        bounds (tuple): (xmin, ymin, xmax, ymax) in ``src_wkt``.
        src_wkt (str), dst_wkt (str): The CRSs as WKT.
        densify (int): Points per edge.
    """
    from osgeo import osr
    if same_crs(src_wkt, dst_wkt):
        return tuple(bounds)
    tr = osr.CoordinateTransformation(_srs(src_wkt), _srs(dst_wkt))
    xs = np.linspace(bounds[0], bounds[2], densify)
    ys = np.linspace(bounds[1], bounds[3], densify)
    edge = [(x, bounds[1]) for x in xs] + [(x, bounds[3]) for x in xs] + \
           [(bounds[0], y) for y in ys] + [(bounds[2], y) for y in ys]
    pts = [tr.TransformPoint(float(x), float(y))[:2] for x, y in edge]
    px, py = [p[0] for p in pts], [p[1] for p in pts]
    return min(px), min(py), max(px), max(py)


def native_resolution(info, dst_wkt):
    """The pixel size of the raster of ``info`` expressed in the CRS ``dst_wkt``:
    its own when both CRSs are projected in the same unit (UTM zones), else the
    transformed extent over its pixel count (the larger of its two sides, larger
    than the pixel for a rotated grid)."""
    src, dst = _srs(info.crs_wkt), _srs(dst_wkt)
    if src.IsProjected() and dst.IsProjected() and \
            src.GetLinearUnits() == dst.GetLinearUnits():
        _, dx, _, _, _, dy = info.geotransform
        return max(abs(dx), abs(dy))
    b = transform_bounds(info.bounds, info.crs_wkt, dst_wkt)
    return max((b[2] - b[0]) / info.width, (b[3] - b[1]) / info.height)


# The forms parse_date accepts without a format: each is unambiguous by its shape.
_DATE_FORMS = (
    (re.compile(r'^(\d{4})-(\d{2})-(\d{2})$'), 'ymd'),  # 2008-04-27
    (re.compile(r'^(\d{4})(\d{2})(\d{2})$'), 'ymd'),  # 20080427
    (re.compile(r'^(\d{4})(\d{3})$'), 'yj'),  # 2008118: year + day of year
    (re.compile(r'^(\d{4})-(\d{3})$'), 'yj'),  # 2008-118 (ISO 8601 ordinal)
    # ISO date-times (2008-04-27T10:31:02.5Z, 2008-04-27 10:31) and the compact
    # date-times of product names (20080427T103102)
    (re.compile(r'^(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?'
                r'(Z|[+-]\d{2}:?\d{2})?$'), 'ymd'),
    (re.compile(r'^(\d{4})(\d{2})(\d{2})T\d{6}$'), 'ymd'),
)

#: What parse_date accepts without ``fmt``, quoted in its errors.
DATE_FORMS_HELP = ('YYYY-MM-DD, YYYYMMDD, YYYYDDD or YYYY-DDD (year and day of year, '
                   'as Landsat and MODIS), or an ISO date-time')


def parse_date(value, source='date', fmt=None):
    """A :class:`datetime.date` from a date string, a date or a datetime.

    Without ``fmt`` only forms that cannot be misread are accepted (see
    :data:`DATE_FORMS_HELP`): 8 digits are year, month, day; 7 digits are year and
    day of year (``'2008118'`` is 27 April 2008, never 8 November); anything else
    (``'27/04/2008'``, ``'2008-4-7'``, 6 digits) is an error, as is a date that does
    not exist (``'20080431'``, day 367).

    Args:
        value: The date (str, int, :class:`datetime.date` / ``datetime``).
        source (str): What the value is, named in the error (file and field).
        fmt (str, optional): A ``strptime`` format the dataset names (``'%Y%j'``,
            ``'%d/%m/%Y'``...). The value must match it exactly: formatting the
            parsed date with ``fmt`` must give the value back (case aside), so that
            ``'%Y%m%d'`` cannot read ``'2008118'`` as 2008-11-08.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, float) or value is None or isinstance(value, bool):
        raise ValueError(f'{source}: cannot parse date {value!r}; expected a string '
                         f'({DATE_FORMS_HELP})')
    text = str(value).strip()
    if fmt is not None:
        try:
            parsed = datetime.datetime.strptime(text, fmt)
        except ValueError as e:
            raise ValueError(f'{source}: date {value!r} does not match the date '
                             f'format {fmt!r} ({e})') from None
        if parsed.strftime(fmt).lower() != text.lower():
            raise ValueError(
                f'{source}: date {value!r} is not written as the date format {fmt!r} '
                f'writes {parsed.date().isoformat()} ({parsed.strftime(fmt)!r}); '
                'check the format (e.g. %Y%j for year + day of year)')
        return parsed.date()
    for pattern, kind in _DATE_FORMS:
        m = pattern.match(text)
        if m is None:
            continue
        try:
            if kind == 'ymd':
                return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            year, doy = int(m.group(1)), int(m.group(2))
            if not 1 <= doy <= (366 if calendar.isleap(year) else 365):
                raise ValueError(f'day of year {doy} does not exist in {year}')
            return datetime.date(year, 1, 1) + datetime.timedelta(days=doy - 1)
        except ValueError as e:
            raise ValueError(f'{source}: cannot parse date {value!r}: not a valid date '
                             f'({e})') from None
    raise ValueError(f'{source}: cannot parse date {value!r}; expected {DATE_FORMS_HELP},'
                     " or name the dataset's date format (date_format='%d/%m/%Y'...)")


def day_of_year(date):
    """Day of year, 1..366."""
    return int(date.timetuple().tm_yday)


def write_geotiff(path,
                  array,
                  origin,
                  pixel,
                  epsg,
                  nodata=None,
                  band_names=None,
                  block=256,
                  compress=None):
    """Write ``array`` (C, H, W) or (H, W) as a tiled, north-up GeoTIFF.

    Used by the sample-data generator, the benchmarks and the tests' fake data.

    Args:
        path (str): Output file.
        array (np.ndarray): uint8, uint16, int16, float32 or float64 pixels.
        origin (tuple): (x, y) of the top-left corner in the CRS.
        pixel (float): Pixel size in CRS units.
        epsg (int): EPSG code of the CRS.
        nodata (float, optional): Nodata value of every band.
        band_names (Sequence[str], optional): Band descriptions, repeated
            cyclically over a date-major stack when shorter than the band count.
        block (int): Tile size in pixels.
        compress (str, optional): GDAL compression ('DEFLATE', 'LZW', ...).

    Returns:
        str: ``path``.
    """
    gdal = _gdal()
    from osgeo import osr
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    types = {
        np.dtype('uint8'): gdal.GDT_Byte,
        np.dtype('uint16'): gdal.GDT_UInt16,
        np.dtype('int16'): gdal.GDT_Int16,
        np.dtype('float32'): gdal.GDT_Float32,
        np.dtype('float64'): gdal.GDT_Float64
    }
    if array.dtype not in types:
        raise ValueError(f'{path}: cannot write dtype {array.dtype} (use one of '
                         f'{sorted(str(t) for t in types)})')
    c, h, w = array.shape
    options = ['TILED=YES', f'BLOCKXSIZE={block}', f'BLOCKYSIZE={block}']
    if compress:
        options.append(f'COMPRESS={compress}')
    ds = gdal.GetDriverByName('GTiff').Create(
        str(path), w, h, c, types[array.dtype], options=options)
    ds.SetGeoTransform((origin[0], pixel, 0, origin[1], 0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(int(epsg))
    ds.SetProjection(srs.ExportToWkt())
    for i in range(c):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(np.ascontiguousarray(array[i]))
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if band_names:
            band.SetDescription(band_names[i % len(band_names)])
    ds.FlushCache()
    ds = None
    return str(path)
