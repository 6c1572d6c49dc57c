"""Annotation files from folders of rasters: your own data in eofm's format.

:func:`build_folder_annotations` scans one folder per modality (and per label
raster), recognises each file by a *file-name pattern*, checks every file and writes
``train.json`` / ``val.json`` / ``test.json`` in the format of
:class:`eofm.datasets.MultiModalDataset` (what :class:`eofm.LoadMultiModalTiles`
reads), plus ``summary.md``.

Patterns (matched against the path of a file inside its modality folder)::

    'S2*_MSIL2A_{date}_*.tif'            # S2A_MSIL2A_20210105T103421_N0214_..tif
    'LC08_{}_{}_{date:%Y%m%d}_*.tif'     # LC08_L2SP_196030_20210514_20210525_02_T1_SR
    '{region}/S2_{date:%Y%m%d}_{band}.tif'   # one file per band and date, per region
    '{region}.tif'                       # a static modality or a label raster
    r'(?P<region>\\w+)_(?P<date>\\d{8})\\.tif'   # a regular expression

Fields: ``{date}`` (the unambiguous forms of :func:`eofm.datasets.geo_io.parse_date`,
e.g. ``20210105``, ``2021-01-05``, ``20210105T103421``, ``2021005``) or
``{date:FMT}`` (a ``strptime`` format such as ``%Y%m%d`` or ``%Y%j``, which must
match exactly); ``{band}`` (one file per band); ``{region}`` (files of several
scenes; a modality without it serves every region its files overlap); ``{}`` or
``{name}`` (one token without ``_``, ``.`` or ``/``, ignored); ``*`` (anything but
``/``) and ``?`` (one character). A date never starts or ends inside a run of
digits. A pattern that can read a file name in two ways (``LC08_*_{date}_*`` on a
Landsat name, whose acquisition and processing dates are both 8 digits) is an error
naming both readings: anchor it with ``{}`` tokens. A pattern containing ``(?P<`` is
a regular expression (full match, named groups ``date`` / ``band`` / ``region``;
``date_format`` for its dates).

Checks, all reported at once (file and what was expected): every file readable by
GDAL, geo-referenced (CRS and geotransform), with the expected bands (count, band
descriptions, one file per expected band), overlapping the reference modality in any
CRS (footprints compared after transforming to the reference CRS with ``osr``); no
two files for the same region / date / band. Files in another CRS than the reference
are warped on the fly by a GDAL VRT written under ``OUT/vrt/`` (the loader reads
ground footprints in the reference CRS); per-band files of a dated modality are
stacked per date in a VRT too. VRTs refer to their sources by relative paths, so
the output folder can move with the data.

Samples: one per region, or (``tile_size=N``) one per N x N px window of the
reference raster (``"window": [x, y, N, N]``), keeping the windows that every
modality covers (per window, a dated modality lists only the dates that cover it).
Splits are assigned by region blocks: windows are grouped in blocks of
``block_size`` x ``block_size`` windows, and a seeded hash of (seed, region, block)
picks the split of each block, so neighbouring windows share a split and the split
does not change when other regions are added. Paths in the annotation files are
relative to the output folder: use it as ``data_root``.
"""
import datetime
import hashlib
import json
import os
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from .geo_io import (RasterReadError, _gdal, crs_label, native_resolution, parse_date,
                     raster_info, same_crs, transform_bounds)

__all__ = [
    'FolderBuildError', 'FilePattern', 'build_folder_annotations', 'block_split',
    'SPLIT_NAMES'
]

SPLIT_NAMES = ('train', 'val', 'test')

# strptime directives a {date:FMT} field may use, as regular expressions.
_DIRECTIVES = {
    '%Y': r'\d{4}',
    '%y': r'\d{2}',
    '%m': r'\d{2}',
    '%d': r'\d{2}',
    '%j': r'\d{3}',
    '%H': r'\d{2}',
    '%M': r'\d{2}',
    '%S': r'\d{2}',
    '%b': r'[A-Za-z]{3}',
    '%B': r'[A-Za-z]+',
    '%%': '%'
}
# The unambiguous forms of parse_date (longest first: one position, one reading).
_DEFAULT_DATE = (r'\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?|\d{8}T\d{6}|\d{8}'
                 r'|\d{4}-\d{3}|\d{7}')
_TOKEN = (r'[^_./]+?', r'[^_./]+')  # (lazy, greedy)
_STAR = (r'[^/]*?', r'[^/]*')
_FIELD = re.compile(r'\{(\w*)(?::([^{}]*))?\}')


class FolderBuildError(ValueError):
    """The folders cannot be turned into annotation files as asked."""


def _date_regex(fmt, where):
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == '%':
            d = fmt[i:i + 2]
            if d not in _DIRECTIVES:
                raise FolderBuildError(
                    f'{where}: date format {fmt!r} uses {d!r}; a file-name date may '
                    f'use {sorted(_DIRECTIVES)}')
            out.append(_DIRECTIVES[d])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return ''.join(out)


class FilePattern:
    """A file-name pattern (see the module docstring) compiled to two regular
    expressions, one reading wildcards as short and one as long as possible: a name
    they read differently is ambiguous.

    Args:
        pattern (str): The pattern, or a regular expression with named groups.
        where (str): What the pattern belongs to, named in errors.
        date_format (str, optional): ``strptime`` format of the dates of a regular
            expression (or of a ``{date}`` field without its own format).
    """

    def __init__(self, pattern, where='pattern', date_format=None):
        self.pattern, self.where = pattern, where
        self.date_format = date_format
        if '(?P<' in pattern:
            try:
                rx = re.compile(pattern)
            except re.error as e:
                raise FolderBuildError(f'{where}: regular expression {pattern!r} does '
                                       f'not compile ({e})') from None
            self.regexes = (rx, )
            self.fields = set(rx.groupindex)
            return
        parts = ([], [])
        self.fields = set()
        pos = 0
        for m in _FIELD.finditer(pattern):
            self._literal(pattern[pos:m.start()], parts)
            name, fmt = m.group(1), m.group(2)
            if name in self.fields:
                raise FolderBuildError(f'{where}: field {{{name}}} appears twice in '
                                       f'{pattern!r}')
            if name == 'date':
                fmt = fmt or date_format
                self.date_format = fmt
                body = _date_regex(fmt, where) if fmt else _DEFAULT_DATE
                for p in parts:
                    p.append(rf'(?<!\d)(?P<date>{body})(?!\d)')
            elif name:
                for p, tok in zip(parts, _TOKEN):
                    p.append(f'(?P<{name}>{tok})')
            else:
                for p, tok in zip(parts, _TOKEN):
                    p.append(f'(?:{tok})')
            if name:
                self.fields.add(name)
            pos = m.end()
        self._literal(pattern[pos:], parts)
        self.regexes = tuple(re.compile(''.join(p)) for p in parts)

    @staticmethod
    def _literal(text, parts):
        for ch in text:
            for p, star in zip(parts, _STAR):
                p.append(star if ch == '*' else '[^/]' if ch == '?' else re.escape(ch))

    @property
    def dated(self):
        return 'date' in self.fields

    def match(self, relpath):
        """The fields of ``relpath`` (a dict; ``date`` parsed), or None when the
        pattern does not match; :class:`FolderBuildError` when it is ambiguous or the
        date does not parse."""
        found = [rx.fullmatch(relpath) for rx in self.regexes]
        if found[0] is None:
            return None
        readings = [m.groupdict() for m in found]
        if any(r != readings[0] for r in readings[1:]):
            raise FolderBuildError(
                f'{self.where}: pattern {self.pattern!r} reads {relpath!r} in two ways '
                f'({readings[0]} or {readings[-1]}); make it unambiguous, e.g. with '
                "'{}' tokens (one '_'-free part each) instead of '*'")
        fields = dict(readings[0])
        if 'date' in fields:
            fields['date'] = parse_date(fields['date'], f'{self.where}: {relpath}',
                                        self.date_format)
        return fields


@dataclass
class _Item:
    """The raster(s) of one modality for one region and date."""
    modality: str
    region: str
    date: datetime.date = None
    files: dict = field(default_factory=dict)  # band (or None) -> path
    info: object = None  # RasterInfo of the (stacked) raster
    path: str = None  # the raster the annotation names (file or VRT)
    band_paths: list = None  # per-band files used as they are
    bad: bool = False


def block_split(seed, region, block, fractions):
    """The split (index into ``fractions``) of a region block: a seeded hash, so the
    assignment depends on nothing but the seed, the region name and the block."""
    digest = hashlib.sha256(f'{seed}:{region}:{block[0]}:{block[1]}'.encode()).digest()
    u = int.from_bytes(digest[:8], 'big') / 2.0**64
    acc = 0.0
    for i, f in enumerate(fractions):
        acc += f
        if u < acc:
            return i
    return len(fractions) - 1


def _inside(inner, outer, eps):
    return (inner[0] >= outer[0] - eps and inner[1] >= outer[1] - eps
            and inner[2] <= outer[2] + eps and inner[3] <= outer[3] + eps)


def _intersects(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _Builder:

    def __init__(self, root, modalities, out_dir, reference, labels, tile_size,
                 block_size, fractions, seed, classes, skip_bad, progress):
        if not modalities:
            raise FolderBuildError('build_folder_annotations: give at least one '
                                   'modality (name -> dict(dir=..., pattern=...))')
        self.root, self.out_dir = root, out_dir
        self.specs = OrderedDict((n, dict(s)) for n, s in modalities.items())
        self.label_specs = OrderedDict((n, dict(s)) for n, s in (labels or {}).items())
        for name, spec in list(self.specs.items()) + list(self.label_specs.items()):
            for key in ('dir', 'pattern'):
                if not spec.get(key):
                    raise FolderBuildError(f'modality {name!r}: {key!r} is missing '
                                           '(expected dict(dir=..., pattern=...))')
            spec['fp'] = FilePattern(spec['pattern'], f'modality {name!r}',
                                     spec.get('date_format'))
        for name, spec in self.label_specs.items():
            if spec['fp'].dated or 'band' in spec['fp'].fields:
                raise FolderBuildError(f'label map {name!r}: a label raster is one '
                                       'file per region; its pattern cannot have '
                                       '{date} or {band} fields')
        self.reference = reference or next(iter(self.specs))
        if self.reference not in self.specs:
            raise FolderBuildError(f'reference {self.reference!r} is not one of the '
                                   f'modalities {list(self.specs)}')
        if tile_size is not None and int(tile_size) <= 0:
            raise FolderBuildError(f'tile_size must be a positive number of pixels, '
                                   f'got {tile_size!r}')
        if int(block_size) <= 0:
            raise FolderBuildError(f'block_size must be >= 1, got {block_size!r}')
        if len(fractions) != 3 or any(f < 0 for f in fractions) or \
                abs(sum(fractions) - 1.0) > 1e-6:
            raise FolderBuildError(f'split fractions must be three numbers >= 0 '
                                   f'(train, val, test) summing to 1, got {fractions}')
        self.tile_size = None if tile_size is None else int(tile_size)
        self.block_size, self.fractions, self.seed = int(block_size), fractions, seed
        self.classes, self.skip_bad, self.progress = classes, skip_bad, progress
        self.problems = []
        self.unmatched = defaultdict(list)
        self.items = OrderedDict()  # name -> [_Item]
        self._warped = {}

    # ------------------------------------------------------------------ scanning
    def problem(self, path, message):
        self.problems.append(f'{path}: {message}')

    def scan(self, name, spec):
        folder = osp.join(self.root, spec['dir'])
        if not osp.isdir(folder):
            raise FolderBuildError(f'modality {name!r}: folder {folder} does not exist')
        fp = spec['fp']
        groups = OrderedDict()
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for fname in sorted(filenames):
                path = osp.join(dirpath, fname)
                rel = osp.relpath(path, folder).replace(os.sep, '/')
                try:
                    fields = fp.match(rel)
                except ValueError as e:  # an ambiguous pattern or a bad date
                    if isinstance(e, FolderBuildError):
                        raise
                    self.problem(path, str(e))
                    continue
                if fields is None:
                    self.unmatched[name].append(rel)
                    continue
                key = (fields.get('region') or '', fields.get('date'))
                item = groups.setdefault(key, _Item(name, key[0], key[1]))
                band = fields.get('band')
                if band in item.files:
                    what = 'region {!r}, date {}, band {!r}'.format(
                        key[0], key[1], band)
                    self.problem(
                        path, f'a second file for {what} (the first is '
                        f'{item.files[band]})')
                    item.bad = True
                    continue
                item.files[band] = path
        if not groups:
            seen = ', '.join(self.unmatched[name][:3]) or 'no files'
            raise FolderBuildError(
                f'modality {name!r}: no file in {folder} matches the pattern '
                f'{spec["pattern"]!r} (found: {seen})')
        return list(groups.values())

    # ------------------------------------------------------------------ checking
    def check(self, name, spec, items, bar):
        fp = spec['fp']
        expected = list(spec['bands']) if spec.get('bands') else None
        per_band = 'band' in fp.fields
        if per_band and expected is None:
            expected = sorted({b for it in items for b in it.files})
        spec['bands_found'] = expected
        for it in items:
            infos = {}
            for band, path in it.files.items():
                bar()
                try:
                    info = raster_info(path)
                except RasterReadError as e:
                    msg = str(e)
                    msg = msg[len(path) + 2:] if msg.startswith(path + ': ') else msg
                    self.problem(path, f'{msg} (modality {name!r})')
                    it.bad = True
                    continue
                if not info.crs_wkt:
                    self.problem(
                        path, f'has no CRS (modality {name!r} needs '
                        'geo-referenced rasters)')
                    it.bad = True
                    continue
                infos[band] = info
            if it.bad:
                continue
            if per_band:
                self._check_band_files(name, it, infos, expected)
            else:
                self._check_stack(name, it, infos[None], expected, spec)
        if not per_band and spec.get('bands_found') is None:
            spec['bands_found'] = next(
                (list(it.info.band_names) for it in items if not it.bad), None)

    def _check_band_files(self, name, it, infos, expected):
        where = f'modality {name!r}, region {it.region!r}' + (f', date {it.date}'
                                                              if it.date else '')
        missing = [b for b in expected if b not in infos]
        if missing:
            have = sorted(infos)
            self.problem(
                next(iter(it.files.values())),
                f'{where}: band file(s) for {missing} missing (found bands {have}, '
                f'expected one file per band of {expected})')
            it.bad = True
            return
        for b in expected:
            if infos[b].count != 1:
                self.problem(
                    it.files[b], f'{where}: a band file must have 1 band, it '
                    f'has {infos[b].count}')
                it.bad = True
        first = infos[expected[0]]
        for b in expected[1:]:
            if not same_crs(infos[b].crs_wkt, first.crs_wkt):
                self.problem(
                    it.files[b], f'{where}: band {b!r} is in '
                    f'{crs_label(infos[b].crs_wkt)}, band {expected[0]!r} in '
                    f'{crs_label(first.crs_wkt)} (band files of one date '
                    'must share a CRS)')
                it.bad = True
        if it.bad:
            return
        it.band_paths = [it.files[b] for b in expected]
        it.info, it.path = first, it.files[expected[0]]  # replaced when stacked

    def _check_stack(self, name, it, info, expected, spec):
        path = it.files[None]
        names = list(info.band_names)
        if expected is not None:
            if info.count != len(expected):
                self.problem(
                    path, f'modality {name!r} expects {len(expected)} bands '
                    f'{expected}, the file has {info.count}' +
                    (f' {names}' if any(names) else ''))
                it.bad = True
                return
            if all(names) and names != expected:
                self.problem(
                    path, f'modality {name!r}: the band descriptions {names} '
                    f'differ from the expected bands {expected}')
                it.bad = True
                return
        else:
            first = spec.setdefault('_first', (path, info.count, names))
            if (info.count, names) != first[1:]:
                self.problem(
                    path, f'modality {name!r}: {info.count} bands {names}, '
                    f'but {first[0]} has {first[1]} bands {first[2]} (give '
                    "the modality's bands to check them by name)")
                it.bad = True
                return
        it.info, it.path = info, path

    # ------------------------------------------------------------------ rasters
    def _vrt(self, kind, name, key, make):
        """A VRT under OUT/vrt/<name>/ made by ``make(tmp_path)``, written
        atomically with its sources as paths relative to the VRT."""
        from eofm.utils.checkpoint import atomic_write_bytes
        gdal = _gdal()
        path = osp.join(self.out_dir, 'vrt', name, f'{kind}_{key}.vrt')
        mem = f'/vsimem/eofm_folder_{kind}_{name}_{key}.vrt'
        ds = make(mem)
        if ds is None:
            raise RasterReadError(f'{mem}: GDAL could not build the VRT')
        ds = None
        f = gdal.VSIFOpenL(mem, 'rb')
        gdal.VSIFSeekL(f, 0, 2)
        size = gdal.VSIFTellL(f)
        gdal.VSIFSeekL(f, 0, 0)
        xml = gdal.VSIFReadL(1, size, f).decode()
        gdal.VSIFCloseL(f)
        gdal.Unlink(mem)
        vdir = osp.dirname(osp.abspath(path))

        def rel(m):
            src = osp.relpath(m.group(2), vdir).replace(os.sep, '/')
            return f'{m.group(1)} relativeToVRT="1">{src}<'

        xml = re.sub(r'(<Source(?:Filename|Dataset))[^>]*>([^<]+)<', rel, xml)
        atomic_write_bytes(xml.encode(), path)
        return path

    def stack_bands(self, it):
        """One raster per date of per-band files (BuildVRT, finest pixel)."""
        if it.band_paths is None or (it.date is None and self._same_crs(it.info)):
            return
        gdal = _gdal()
        key = hashlib.sha1('|'.join(it.band_paths).encode()).hexdigest()[:12]
        paths = [osp.abspath(p) for p in it.band_paths]
        it.path = self._vrt(
            'bands', it.modality, key,
            lambda out: gdal.BuildVRT(out, paths, separate=True, resolution='highest'))
        names = [osp.splitext(osp.basename(p))[0] for p in it.band_paths]
        it.info = raster_info(it.path)
        it.info = type(it.info)(**{**it.info.__dict__, 'band_names': tuple(names)})
        it.band_paths = None

    def _same_crs(self, info):
        return same_crs(info.crs_wkt, self.ref_wkt)

    def warped(self, it, region_bounds, resample):
        """The path to name for ``it`` in a region: the raster itself in the
        reference CRS, else a warped VRT covering the region's part of it."""
        if self._same_crs(it.info):
            return it.path
        src_in_ref = transform_bounds(it.info.bounds, it.info.crs_wkt, self.ref_wkt)
        res = native_resolution(it.info, self.ref_wkt)
        pad = 2 * res
        b = (max(src_in_ref[0], region_bounds[0]) - pad,
             max(src_in_ref[1], region_bounds[1]) - pad,
             min(src_in_ref[2], region_bounds[2]) + pad,
             min(src_in_ref[3], region_bounds[3]) + pad)
        cache = (it.path, tuple(round(v, 6) for v in b))
        if cache not in self._warped:
            gdal = _gdal()
            key = hashlib.sha1(repr(cache).encode()).hexdigest()[:12]
            src = osp.abspath(it.path)
            self._warped[cache] = self._vrt(
                'warp', it.modality, key, lambda out: gdal.Warp(
                    out,
                    src,
                    format='VRT',
                    dstSRS=self.ref_wkt,
                    outputBounds=b,
                    xRes=res,
                    yRes=res,
                    resampleAlg=resample))
        return self._warped[cache]

    def covers(self, it, bounds):
        """True when ``bounds`` (reference CRS) lie inside the raster of ``it``."""
        inner = transform_bounds(bounds, self.ref_wkt, it.info.crs_wkt)
        return _inside(inner, it.info.bounds, 1e-6 * max(it.info.resolution))

    # ------------------------------------------------------------------ building
    def run(self):
        from mmengine.utils import ProgressBar
        scanned = OrderedDict()
        for name, spec in list(self.specs.items()) + list(self.label_specs.items()):
            scanned[name] = self.scan(name, spec)
        total = sum(len(it.files) for items in scanned.values() for it in items)
        bar = ProgressBar(total) if self.progress and total else None
        tick = bar.update if bar else (lambda: None)
        for name, items in scanned.items():
            spec = self.specs.get(name) or self.label_specs[name]
            self.check(name, spec, items, tick)
        if bar:
            print()
        self.items = scanned
        refs = [it for it in scanned[self.reference] if not it.bad]
        if not refs:
            raise FolderBuildError(
                self._problem_text(
                    f'reference modality {self.reference!r}: no usable raster'))
        self.ref_wkt = refs[0].info.crs_wkt
        for name, items in scanned.items():
            for it in items:
                if not it.bad and it.band_paths is not None:
                    self.stack_bands(it)
        regions = OrderedDict()
        for it in refs:
            regions.setdefault(it.region, []).append(it)
        samples = self.samples(regions)
        return self.write(samples)

    def _region_items(self, name, region):
        spec = self.specs.get(name) or self.label_specs[name]
        items = [it for it in self.items[name] if not it.bad]
        if 'region' in spec['fp'].fields:
            return [it for it in items if it.region == region]
        return items

    def samples(self, regions):
        """Per split, the sample dicts; counts of windows dropped, per reason."""
        out = {s: [] for s in SPLIT_NAMES}
        self.dropped = defaultdict(int)
        self.n_windows = 0
        used = set()
        for region, ref_items in regions.items():
            ref_items.sort(key=lambda it: it.date or datetime.date.min)
            ref = ref_items[0]
            info = ref.info
            if not same_crs(info.crs_wkt, self.ref_wkt):
                self.problem(
                    ref.path, f'reference modality {self.reference!r} is in '
                    f'{crs_label(info.crs_wkt)}, its first region in '
                    f'{crs_label(self.ref_wkt)}')
                continue
            grid = (info.geotransform, info.width, info.height)
            for it in ref_items[1:]:
                if (it.info.geotransform, it.info.width, it.info.height) != grid or \
                        not same_crs(it.info.crs_wkt, info.crs_wkt):
                    self.problem(
                        it.path, f'reference modality {self.reference!r}, region '
                        f'{region!r}: every date must be on the grid of the first, '
                        f'{ref.path} ({info.width} x {info.height} px, geotransform '
                        f'{info.geotransform}); this one has {it.info.width} x '
                        f'{it.info.height} px, {it.info.geotransform}')
                    it.bad = True
            region_bounds = info.bounds
            others = OrderedDict()
            for name in list(self.specs) + list(self.label_specs):
                cands = [
                    it for it in self._region_items(name, region) if _intersects(
                        transform_bounds(it.info.bounds, it.info.crs_wkt, self.ref_wkt),
                        region_bounds)
                ]
                shared = 'region' not in (self.specs.get(name)
                                          or self.label_specs[name])['fp'].fields
                if not shared:
                    for it in self._region_items(name, region):
                        if it not in cands:
                            self.problem(
                                it.path, f'modality {name!r}, region {region!r}: does '
                                f'not overlap the reference raster {ref.path} (in '
                                f'{crs_label(self.ref_wkt)})')
                others[name] = sorted(
                    cands, key=lambda it: it.date or datetime.date.min)
            if self.tile_size:
                n = self.tile_size
                windows = [(x, y, n, n) for y in range(0, info.height - n + 1, n)
                           for x in range(0, info.width - n + 1, n)]
                if not windows:
                    self.problem(
                        ref.path, f'{info.width} x {info.height} px is smaller '
                        f'than one window of {n} px')
            else:
                windows = [None]
            x0, dx, _, y0, _, dy = info.geotransform
            for window in windows:
                self.n_windows += 1
                if window is None:
                    bounds, block, sid = region_bounds, (0, 0), region or osp.splitext(
                        osp.basename(ref.path))[0]
                else:
                    x, y, w, h = window
                    xs, ys = (x0 + dx * x, x0 + dx * (x + w)), (y0 + dy * y,
                                                                y0 + dy * (y + h))
                    bounds = (min(xs), min(ys), max(xs), max(ys))
                    block = (y // n // self.block_size, x // n // self.block_size)
                    sid = f'{region + "_" if region else ""}r{y}_c{x}'
                sample = dict(sample_id=sid, modalities={}, label_maps={})
                lacking = None
                for name, cands in others.items():
                    spec = self.specs.get(name) or self.label_specs[name]
                    cover = [it for it in cands if self.covers(it, bounds)]
                    if not cover:
                        lacking = name
                        break
                    resample = spec.get(
                        'resample',
                        'nearest' if name in self.label_specs else 'bilinear')
                    paths = [self.warped(it, region_bounds, resample) for it in cover]
                    used.update(id(it) for it in cover)
                    if name in self.label_specs:
                        sample['label_maps'][name] = dict(path=self._rel(paths[0]))
                        continue
                    desc = {}
                    if spec['fp'].dated:
                        desc['paths'] = [self._rel(p) for p in paths]
                        desc['dates'] = [it.date.isoformat() for it in cover]
                    elif cover[0].band_paths is not None:
                        desc['band_paths'] = [self._rel(p) for p in cover[0].band_paths]
                    else:
                        desc['path'] = self._rel(paths[0])
                    if spec.get('bands_found'):
                        desc['bands'] = list(spec['bands_found'])
                    sample['modalities'][name] = desc
                if lacking is not None:
                    self.dropped[lacking] += 1
                    continue
                if not sample['label_maps']:
                    del sample['label_maps']
                if window is not None:
                    sample['window'] = list(window)
                split = SPLIT_NAMES[block_split(self.seed, region, block,
                                                self.fractions)]
                out[split].append(sample)
        self.unused = {
            name: [it for it in items if not it.bad and id(it) not in used]
            for name, items in self.items.items()
        }
        return out

    def _rel(self, path):
        return osp.relpath(osp.abspath(path),
                           osp.abspath(self.out_dir)).replace(os.sep, '/')

    # ------------------------------------------------------------------ output
    def _problem_text(self, head):
        lines = [head] + [f'  - {p}' for p in self.problems]
        return '\n'.join(lines)

    def summary(self, samples):
        rows = [
            '| modality | files | dates | bands | pixel size | CRS |',
            '|---|---|---|---|---|---|'
        ]
        for name, items in self.items.items():
            spec = self.specs.get(name) or self.label_specs[name]
            good = [it for it in items if not it.bad and it.info is not None]
            n_files = sum(len(it.files) for it in items)
            dates = sorted({it.date for it in good if it.date})
            drange = (f'{dates[0]} .. {dates[-1]} ({len(dates)})' if dates else '-')
            bands = spec.get('bands_found') or []
            res = sorted(
                {tuple(round(r, 6) for r in it.info.resolution)
                 for it in good})
            crss = sorted({crs_label(it.info.crs_wkt) for it in good})
            label = name + (' (reference)' if name == self.reference else
                            ' (labels)' if name in self.label_specs else '')
            rows.append(f'| {label} | {n_files} | {drange} | '
                        f'{", ".join(bands) or "-"} | '
                        f'{", ".join(f"{r[0]:g} x {r[1]:g}" for r in res) or "-"} | '
                        f'{", ".join(crss) or "-"} |')
        rows += ['', '| split | samples |', '|---|---|']
        rows += [f'| {s} | {len(samples[s])} |' for s in SPLIT_NAMES]
        kept = sum(len(v) for v in samples.values())
        rows += [
            '', f'windows: {self.n_windows}, kept {kept}' +
            ''.join(f', dropped {k} (not covered by {m!r})'
                    for m, k in self.dropped.items())
        ]
        for name, rels in self.unmatched.items():
            rows.append(f'{name}: {len(rels)} file(s) did not match the pattern '
                        f'(e.g. {rels[0]})')
        for name, items in self.unused.items():
            if items:
                rows.append(f'{name}: {len(items)} raster(s) overlap no sample (e.g. '
                            f'{items[0].path})')
        rows += ['', f'problems: {len(self.problems)}']
        rows += [f'- {p}' for p in self.problems]
        return '\n'.join(rows)

    def write(self, samples):
        from eofm.utils.checkpoint import atomic_write_bytes
        text = self.summary(samples)
        print(text)
        if self.problems and not self.skip_bad:
            raise FolderBuildError(
                self._problem_text(
                    f'{len(self.problems)} problem(s) found (no annotation file '
                    'written; pass skip_bad=True / --skip-bad to leave the files '
                    'out):'))
        if not any(samples.values()):
            raise FolderBuildError('no sample left: every window lacks a modality '
                                   f'({dict(self.dropped)})')
        files = {}
        for split, data_list in samples.items():
            metainfo = dict(
                split=split,
                reference=self.reference,
                seed=self.seed,
                tile_size=self.tile_size,
                block_size=self.block_size,
                bands={
                    n: s.get('bands_found')
                    for n, s in self.specs.items()
                })
            if self.classes:
                metainfo['classes'] = list(self.classes)
            path = osp.join(self.out_dir, f'{split}.json')
            atomic_write_bytes(
                json.dumps(dict(metainfo=metainfo, data_list=data_list),
                           indent=1).encode(), path)
            files[split] = path
        atomic_write_bytes((text + '\n').encode(), osp.join(self.out_dir, 'summary.md'))
        return dict(
            files=files,
            summary=text,
            problems=list(self.problems),
            counts={
                s: len(v)
                for s, v in samples.items()
            },
            dropped=dict(self.dropped))


def build_folder_annotations(root,
                             modalities,
                             out_dir,
                             reference=None,
                             labels=None,
                             tile_size=None,
                             block_size=4,
                             fractions=(0.7, 0.15, 0.15),
                             seed=0,
                             classes=None,
                             skip_bad=False,
                             progress=True):
    """Write ``OUT/{train,val,test}.json`` from folders of rasters (module docstring).

    Args:
        root (str): Folder the modality folders are relative to.
        modalities (dict): Modality name -> ``dict(dir=..., pattern=...,
            bands=[...] (optional: the band names in order; checked against band
            counts and descriptions, and the order of per-band files),
            date_format=None, resample='bilinear' (for warping another CRS))``.
        out_dir (str): Output folder (the ``data_root`` of the dataset config).
        reference (str, optional): The modality whose grid defines the samples;
            the first modality by default.
        labels (dict, optional): Label-map key (``gt_seg_map``...) -> ``dict(dir=...,
            pattern=...)``, one raster per region (warped with nearest resampling).
        tile_size (int, optional): Cut the reference rasters into windows of this
            many pixels.
        block_size (int): Windows per side of a split block.
        fractions (tuple): Train / val / test fractions of the blocks.
        seed (int): Seed of the block hash.
        classes (Sequence[str], optional): Class names for the metainfo.
        skip_bad (bool): Leave files with problems out (reported in the summary)
            instead of raising :class:`FolderBuildError` listing every problem.
        progress (bool): Progress bar over the files.

    Returns:
        dict: ``files`` (split -> path), ``summary`` (the printed table),
        ``problems``, ``counts`` (samples per split), ``dropped`` (windows left out
        per modality that did not cover them).
    """
    return _Builder(root, modalities, out_dir, reference, labels, tile_size, block_size,
                    tuple(fractions), seed, classes, skip_bad, progress).run()
