"""Load every modality of a multi-modal sample onto one ground footprint (GDAL)."""
import datetime
import functools
import warnings

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures.batch_schema import dates_key, doy_key, mask_key
from ..geo_io import (FootprintOutsideError, RasterReadError, center_lonlat,
                      check_window, crs_label, day_of_year, footprint_bounds, parse_date,
                      same_crs)
from ..raster_sources import ARRAY_KEYS, open_source
from ..validation import lonlat_problems, scaling_problem
from .arguments import check_number, check_size

__all__ = ['LoadMultiModalTiles', 'SENSOR_SCALINGS', 'DATE_RANGE']


def _reflectance(x):
    """Sentinel-2 L2A digital numbers to surface reflectance."""
    return x / 10000.0


def _decibel(x):
    """Sentinel-1 linear backscatter (sigma0) to dB; non-positive values become invalid."""
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(x > 0, 10.0 * np.log10(np.where(x > 0, x, 1.0)), np.nan)


def _unit8(x):
    return x / 255.0


def _uint11(x):
    """11-bit digital numbers (WorldView-2/3, SpaceNet) to [0, 1]."""
    return x / 2047.0


# Named per-sensor scalings a modality config refers to with ``scale=NAME``.
SENSOR_SCALINGS = {
    'none': lambda x: x,
    'reflectance': _reflectance,  # Sentinel-2 L2A DN / 10000
    'db': _decibel,  # Sentinel-1 linear backscatter -> dB
    'uint8': _unit8,  # 8-bit imagery -> [0, 1]
    'uint11': _uint11,  # 11-bit imagery (WorldView) -> [0, 1]
}


class _SourceCache:
    """Open each file of a sample once (the reference is read for the footprint too)."""

    def __init__(self):
        self._open = {}

    def get(self, fdesc, where):
        key = (fdesc.get('path'), tuple(fdesc.get('band_paths') or ()),
               fdesc.get('format'), fdesc.get('key'), tuple(fdesc.get('keys') or ()),
               fdesc.get('axes'), fdesc.get('index'))
        if key not in self._open:
            self._open[key] = open_source(fdesc, where)
        return self._open[key]


@functools.lru_cache(maxsize=64)
def _same_crs(a, b):
    """Cached :func:`~eofm.datasets.geo_io.same_crs` (the loader asks per sample)."""
    return same_crs(a, b)


class _Region:
    """The part of the scene one sample covers, as every source is asked for it.

    With a geo-referenced reference the region is a ground footprint (CRS bounds)
    and geo-referenced sources are read under it; sources without geo-referencing
    (arrays, PNGs) are co-registered patches, read by the same fraction of the
    patch as the footprint is of the reference raster.
    """

    def __init__(self, ref_src, window=None):
        info = ref_src.info
        self.ref_info = info
        if window is not None:
            x, y, w, h = check_window(info, window)
            self.frac = (x / info.width, y / info.height, (x + w) / info.width,
                         (y + h) / info.height)
        else:
            self.frac = (0.0, 0.0, 1.0, 1.0)
        self.bounds = footprint_bounds(info, window) if ref_src.georeferenced else None

    def read(self, src, out_size, bands, resample):
        if self.bounds is not None and src.georeferenced:
            self._check_crs(src.info)
            return src.read_bounds(self.bounds, out_size, bands, resample)
        return src.read_fraction(self.frac, out_size, bands, resample)

    def _check_crs(self, info):
        """The footprint is in the reference's CRS: a raster in another one would be
        read at the same numbers in its own CRS (another place on the ground)."""
        ref = self.ref_info
        if not info.crs_wkt or not ref.crs_wkt or info.crs_wkt == ref.crs_wkt:
            return
        if not _same_crs(info.crs_wkt, ref.crs_wkt):
            raise RasterReadError(
                f'{info.path} is in another CRS ({crs_label(info.crs_wkt)}) than the '
                f'reference {ref.path} ({crs_label(ref.crs_wkt)}); reproject it to the '
                "reference's CRS (gdalwarp -t_srs) or use the reference's CRS for all "
                'modalities of a sample (scene inference warps on the fly)')

    def geo(self, given=None, shape=None):
        """Geo-metadata: computed for a geo-referenced reference, else ``given``.

        ``shape`` (H, W) is the grid the reference modality was loaded on: the
        geotransform's pixel size is the footprint divided by it (the native pixel
        size only when the reference is read at its native resolution), so that a
        raster written from the loaded array lands on the footprint.
        """
        given = dict(given or {})
        if self.bounds is None:
            return dict(
                dict(crs='', bounds=None, geotransform=None, lon=None, lat=None),
                **given)
        info, bounds = self.ref_info, self.bounds
        _, dx, _, _, _, dy = info.geotransform
        if shape is not None:
            h, w = shape
            dx = (1.0 if dx > 0 else -1.0) * (bounds[2] - bounds[0]) / w
            dy = (-1.0 if dy < 0 else 1.0) * (bounds[3] - bounds[1]) / h
        lon, lat = center_lonlat(info, bounds) if info.crs_wkt else (given.get('lon'),
                                                                     given.get('lat'))
        return dict(
            crs=info.crs_wkt,
            bounds=tuple(bounds),
            geotransform=(bounds[0] if dx > 0 else bounds[2], dx, 0.0,
                          bounds[3] if dy < 0 else bounds[1], 0.0, dy),
            lon=lon,
            lat=lat)


#: Dates a series may hold: from the first Earth-observation archives to a year
#: after today (later dates are typos or misread formats).
DATE_RANGE = (datetime.date(1960, 1, 1), datetime.timedelta(days=366))


@TRANSFORMS.register_module()
class LoadMultiModalTiles(BaseTransform):
    """Read the modalities of one sample onto a common ground footprint.

    The footprint is the extent of the ``reference`` modality's raster (or of a pixel
    window of it, ``results['window']``). Every other modality is read under exactly
    that footprint with a windowed, resampling GDAL read, at its own pixel size
    (``gsd``) or at a fixed ``size``: a 60 m tile gives 300 x 300 px of 0.2 m aerial
    imagery and 6 x 6 px of Sentinel-2 at 10 m, pixel-aligned by construction.
    Sources without geo-referencing (``.npy``/HDF5 arrays, PNGs; see
    :mod:`eofm.datasets.raster_sources`) are co-registered patches: they are read by
    the same fraction of the patch, and the geo-metadata come from the sample's
    ``geo`` entry (lon/lat the dataset knows) instead.

    Sample description (``results['modalities']``, from the annotation file)::

        hr=dict(path='hr/t0.tif', bands=['R', 'G', 'B', 'NIR'])      # static
        s2=dict(paths=['s2/t0_20200105.tif', ...], dates=['2020-01-05', ...],
                bands=['B2', ..., 'B12'])                            # one file per date
        s1=dict(path='s1/t0.tif', dates=[...], bands=['VV', 'VH'])   # one stack,
                                                                     # date-major bands
        s2=dict(path='t0.h5', format='h5', key='sen-2-data', dates=[...])  # (T, C, H, W)
        ms=dict(band_paths=['B02.tif', 'B03.tif', ...])              # a file per band

    ``bands`` in the sample names the file's bands (the files' own band descriptions,
    or the band files' names, are used when the sample gives none). Label rasters
    (``results['label_maps']``, e.g. ``gt_seg_map=dict(path='y.tif')``) are read over
    the same footprint with nearest resampling, on the grid of the modality named by
    ``label_maps[key]['like']``.

    Outputs, for each modality ``m`` present: ``results[m]`` float32, (C, H, W) for a
    static and (T, C, H, W) for a dated modality; ``results[m + '_mask']`` bool
    validity, (H, W) or (T, H, W) (False at nodata, NaN and invalid dB values, where
    the data are set to 0); for dated modalities ``results[m + '_doy']`` (T,) int64 day
    of year and ``results[m + '_dates']`` ISO strings; each configured label map as an
    int64 (H, W) array under its key. ``results['geo']`` carries the CRS (WKT), the
    footprint bounds, the geotransform of the reference modality's loaded grid over
    the footprint (its pixel size follows that modality's ``gsd`` / ``size``) and the
    centre ``lon``/``lat``; ``results['modalities_present']`` lists what was read.

    Args:
        modalities (dict): Per modality name: ``bands`` (names to select, in order;
            all when omitted), ``scale`` (a key of :data:`SENSOR_SCALINGS`, default
            'none'), ``gsd`` (output pixel size in CRS units; native when omitted),
            ``size`` ((H, W), overrides ``gsd``), ``resample`` ('bilinear'; use
            'nearest' for categorical layers), ``required`` (default True),
            ``date_format`` (a ``strptime`` format of the sample's ``dates``, e.g.
            ``'%Y%j'``; a sample's own ``date_format`` wins; default: the
            unambiguous forms of :func:`eofm.datasets.geo_io.parse_date`).
        reference (str, optional): Modality whose raster defines the footprint.
            Defaults to the first configured modality present in the sample.
        missing (str): 'error' (default) or 'skip': what to do when a configured
            modality is absent from a sample and not ``required=False``.
        label_maps (dict, optional): Label raster key (``gt_seg_map``,
            ``gt_change_map``, ...) -> ``dict(like=MODALITY or size=(H, W), band=0,
            required=True)``.
        date_order (str): A series whose dates are not in chronological order:
            ``'sort'`` (default: its dates are sorted, with a warning naming the
            sample and modality) or ``'error'``. A date given twice, a series with
            no date, and a date outside :data:`DATE_RANGE` are always errors.
    """

    def __init__(self, modalities, reference=None, missing='error', label_maps=None,
                 date_order='sort'):
        if date_order not in ('sort', 'error'):
            raise ValueError(f"LoadMultiModalTiles: date_order must be 'sort' or "
                             f"'error', got {date_order!r}")
        self.date_order = date_order
        if not isinstance(modalities, dict) or not modalities:
            raise ValueError('LoadMultiModalTiles: `modalities` must be a non-empty '
                             'dict of modality name -> settings')
        if missing not in ('error', 'skip'):
            raise ValueError(f"LoadMultiModalTiles: missing must be 'error' or 'skip', "
                             f'got {missing!r}')
        for name, mcfg in modalities.items():
            scale = mcfg.get('scale', 'none')
            if scale not in SENSOR_SCALINGS:
                raise ValueError(f'LoadMultiModalTiles: modalities.{name}.scale must '
                                 f'be one of {sorted(SENSOR_SCALINGS)}, got {scale!r}')
            if mcfg.get('gsd') is not None:
                check_number('LoadMultiModalTiles', f'modalities.{name}.gsd',
                             mcfg['gsd'], 0, low_open=True)
            if mcfg.get('size') is not None:
                check_size('LoadMultiModalTiles', f'modalities.{name}.size', mcfg['size'])
        if reference is not None and reference not in modalities:
            raise ValueError(f'LoadMultiModalTiles: reference {reference!r} is not one '
                             f'of the modalities {list(modalities)}')
        self.modalities = modalities
        self.reference = reference
        self.missing = missing
        self.label_maps = dict(label_maps or {})
        for key, lcfg in self.label_maps.items():
            if lcfg.get('like') is not None and lcfg['like'] not in modalities:
                raise ValueError(f'LoadMultiModalTiles: label_maps.{key}.like must be '
                                 f'one of the modalities {list(modalities)}, got '
                                 f"{lcfg['like']!r}")

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _files(name, desc, sample_id, date_format=None):
        """[(file description, date(s) or None)] of one modality, and if it is dated.

        A file description is what :func:`open_source` takes: the modality's
        ``path``/``band_paths``/``format``/``key``, or one of its ``paths``. Dates
        are parsed with the sample's ``date_format``, else ``date_format``, else
        the unambiguous forms of :func:`parse_date`.
        """
        dates = desc.get('dates')
        where = f'sample {sample_id}, {name}.dates'
        fmt = desc.get('date_format') or date_format
        base = {k: desc[k] for k in ARRAY_KEYS if k in desc}
        for key in ('dates', 'paths'):
            if key in desc and desc[key] is not None and len(desc[key]) == 0:
                raise ValueError(f'sample {sample_id}: modality {name!r} has an empty '
                                 f'"{key}" list (a dated modality with no dates: drop '
                                 'the modality from the sample or give its files)')
        if 'paths' in desc:
            paths = list(desc['paths'])
            if dates is None or len(dates) != len(paths):
                raise ValueError(
                    f'sample {sample_id}: modality {name!r} has {len(paths)} paths '
                    f'but {0 if dates is None else len(dates)} dates')
            return [(dict(base, path=p), parse_date(d, where, fmt))
                    for p, d in zip(paths, dates)], True
        if 'path' not in desc and not desc.get('band_paths'):
            raise ValueError(f"sample {sample_id}: modality {name!r} needs 'path', "
                             "'paths' or 'band_paths'")
        one = dict(base, path=desc.get('path'), band_paths=desc.get('band_paths'))
        if dates is None:
            return [(one, None)], False
        return [(one, [parse_date(d, where, fmt) for d in dates])], True

    @staticmethod
    def _band_indices(name, mcfg, desc, info, per_date):
        file_bands = list(desc.get('bands') or info.band_names[:per_date])
        wanted = mcfg.get('bands')
        if wanted is None:
            return list(range(per_date))
        missing = [b for b in wanted if b not in file_bands]
        if missing:
            raise RasterReadError(
                f'{info.path}: modality {name!r} needs bands {list(wanted)}, the file '
                f'has {file_bands} (missing {missing}); name the bands in the sample '
                "('bands') or in the file's band descriptions")
        return [file_bands.index(b) for b in wanted]

    @staticmethod
    def _out_size(mcfg, region):
        size = mcfg.get('size')
        if size is None and mcfg.get('gsd') and region.bounds is not None:
            b = region.bounds
            size = (max(int(round((b[3] - b[1]) / mcfg['gsd'])),
                        1), max(int(round((b[2] - b[0]) / mcfg['gsd'])), 1))
        return None if size is None else tuple(size)

    def _read_modality(self, name, desc, region, sample_id, sources):
        mcfg = self.modalities[name]
        files, dated = self._files(name, desc, sample_id, mcfg.get('date_format'))
        scale = SENSOR_SCALINGS[mcfg.get('scale', 'none')]
        arrays, masks, dates = [], [], []
        for fdesc, date in files:
            src = sources.get(fdesc, f'sample {sample_id}, modality {name!r}')
            info = src.info
            n_dates = len(date) if isinstance(date, list) else 1
            if info.count % n_dates:
                raise RasterReadError(
                    f'{info.path}: {info.count} bands cannot hold {n_dates} dates of '
                    f'modality {name!r} (bands must be date-major)')
            per_date = info.count // n_dates
            if len(desc.get('bands') or []) not in (0, per_date):
                raise RasterReadError(
                    f'{info.path}: the sample names {len(desc["bands"])} bands for '
                    f'modality {name!r}, the file has {per_date} per date')
            idx = self._band_indices(name, mcfg, desc, info, per_date)
            all_idx = [t * per_date + i for t in range(n_dates) for i in idx]
            data = region.read(src, self._out_size(mcfg, region), all_idx,
                               mcfg.get('resample', 'bilinear')).astype(np.float64)
            nodata = [info.nodata[i] for i in all_idx]
            valid = np.isfinite(data)
            for c, nd in enumerate(nodata):
                if nd is not None:
                    valid[c] &= data[c] != nd
            problem = scaling_problem(mcfg.get('scale', 'none'), data, valid)
            if problem:
                raise RasterReadError(
                    f'{info.path}: modality {name!r} is declared '
                    f"scale={mcfg.get('scale')!r} but {problem}")
            with np.errstate(invalid='ignore'):
                data = scale(np.where(valid, data, 0.0))
            valid &= np.isfinite(data)
            data = np.where(valid, data, 0.0).astype(np.float32)
            data = data.reshape(n_dates, len(idx), *data.shape[1:])
            valid = valid.reshape(n_dates, len(idx), *valid.shape[1:]).all(axis=1)
            arrays.append(data)
            masks.append(valid)
            dates.extend(date if isinstance(date, list) else [date])
        data = np.concatenate(arrays, axis=0)
        mask = np.concatenate(masks, axis=0)
        if not dated:
            return dict(data=data[0], mask=mask[0])
        order = self._date_order(name, dates, sample_id)
        if order is not None:
            data, mask, dates = data[order], mask[order], [dates[i] for i in order]
        return dict(data=data, mask=mask, dates=dates)

    def _date_order(self, name, dates, sample_id):
        """Check a series' dates; the chronological order when they are not in it."""
        where = f'sample {sample_id}, modality {name!r}'
        if not dates:
            raise ValueError(f'{where}: a dated modality with no dates (check its '
                             '"dates" / "paths" in the annotation file)')
        lo, hi = DATE_RANGE[0], datetime.date.today() + DATE_RANGE[1]
        bad = [d.isoformat() for d in dates if not lo <= d <= hi]
        if bad:
            raise ValueError(f'{where}: dates {bad[:5]} are outside {lo.isoformat()} .. '
                             f'{hi.isoformat()} (a typo or a wrong date_format?)')
        dup = sorted({d.isoformat() for d in dates if dates.count(d) > 1})
        if dup:
            raise ValueError(f'{where}: dates {dup[:5]} are given more than once')
        order = sorted(range(len(dates)), key=dates.__getitem__)
        if order == list(range(len(dates))):
            return None
        if self.date_order == 'error':
            raise ValueError(f'{where}: dates are not in chronological order '
                             f"({[d.isoformat() for d in dates[:5]]}...); sort them or "
                             "set date_order='sort'")
        warnings.warn(f'{where}: dates not in chronological order: sorted',
                      stacklevel=2)
        return order

    def _read_label_map(self, key, desc, region, results, sample_id, sources):
        lcfg = self.label_maps[key]
        src = sources.get(desc, f'sample {sample_id}, label map {key!r}')
        like = lcfg.get('like')
        size = lcfg.get('size')
        if like is not None:
            if like not in results:
                raise KeyError(f'sample {sample_id}: label map {key!r} is read like '
                               f'modality {like!r}, which was not loaded')
            size = results[like].shape[-2:]
        band = int(desc.get('band', lcfg.get('band', 0)))
        if not 0 <= band < src.info.count:
            raise RasterReadError(f'{src.info.path}: label map {key!r} band {band} '
                                  f'does not exist (the file has {src.info.count})')
        arr = region.read(src, None if size is None else tuple(size), [band],
                          'nearest')[0]
        if not np.all(np.isfinite(arr)):
            raise RasterReadError(f'{src.info.path}: label map {key!r} has NaN values')
        return arr.astype(np.int64)

    # ------------------------------------------------------------------ transform
    def transform(self, results):
        sample_id = results.get('sample_id', results.get('sample_idx', '?'))
        described = results.get('modalities') or {}
        present = []
        for name, mcfg in self.modalities.items():
            if name in described:
                present.append(name)
            elif mcfg.get('required', True) and self.missing == 'error':
                raise KeyError(
                    f'sample {sample_id}: modality {name!r} is missing (the sample has '
                    f'{sorted(described)}); set missing=\'skip\' or '
                    f'modalities.{name}.required=False to allow it')
        if not present:
            raise KeyError(f'sample {sample_id}: none of the modalities '
                           f'{list(self.modalities)} is present')
        ref = self.reference if self.reference in present else present[0]
        sources = _SourceCache()
        ref_files, _ = self._files(ref, described[ref], sample_id,
                                   self.modalities[ref].get('date_format'))
        ref_src = sources.get(ref_files[0][0], f'sample {sample_id}, modality {ref!r}')
        region = _Region(ref_src, results.get('window'))
        for name in present:
            try:
                out = self._read_modality(name, described[name], region, sample_id,
                                          sources)
            except FootprintOutsideError as e:
                raise FootprintOutsideError(
                    f'sample {sample_id}: modality {name!r} does not cover the '
                    f'footprint of {ref!r} ({ref_src.info.path}): {e}') from e
            results[name] = out['data']
            results[mask_key(name)] = out['mask']
            if not out['mask'].any():
                results.setdefault('all_invalid', []).append(name)
            if 'dates' in out:
                results[doy_key(name)] = np.array(
                    [day_of_year(d) for d in out['dates']], dtype=np.int64)
                results[dates_key(name)] = [d.isoformat() for d in out['dates']]
        label_descs = results.get('label_maps') or {}
        for key, lcfg in self.label_maps.items():
            if key not in label_descs:
                if lcfg.get('required', True):
                    raise KeyError(f'sample {sample_id}: label map {key!r} is missing '
                                   f'(the sample has {sorted(label_descs)})')
                continue
            results[key] = self._read_label_map(key, label_descs[key], region, results,
                                                sample_id, sources)
        results['geo'] = region.geo(results.get('geo'), results[ref].shape[-2:])
        bad = lonlat_problems(results['geo'])
        if bad:
            raise ValueError(f'sample {sample_id}: ' + '; '.join(bad))
        results['modalities_present'] = present
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(modalities={list(self.modalities)}, '
                f'reference={self.reference!r}, missing={self.missing!r})')
