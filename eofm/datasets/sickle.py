"""SICKLE paddy / non-paddy segmentation in its official layout.

SICKLE (Sani et al., "SICKLE: A Multi-Sensor Satellite Imagery Dataset Annotated
with Multiple Key Cropping Parameters", WACV 2024): season-wise samples of plots in
the Cauvery Delta (Tamil Nadu, India), each a 320 m tile (32 x 32 px at 10 m) with
Sentinel-2, Sentinel-1 and Landsat-8 series of variable length (13-148 dates) and
plot-level annotations of 21 crop types. The crop-type task of the paper (and of
AnySat, Astruc et al., CVPR 2025) is binary segmentation: paddy / non-paddy,
evaluated on the validation split (the test labels are not released). Layout under
``data_root`` (as the SICKLE and AnySat reference loaders read it)::

    sickle_dataset_tabular.csv        # a row per sample: UNIQUE_ID, PLOT_ID, SPLIT
                                      # (train / val / test), ...
    images/S2/npy/<uid>/*.npz         # one archive per date, one (H, W) array per
                                      # band: B1 ... B12, B8A
    images/S1/npy/<uid>/*.npz         # VV, VH
    images/L8/npy/<uid>/*.npz         # SR_B1 ... SR_B7, ST_B10 (30 m: any size,
                                      # resampled to the 32 x 32 grid)
    masks/10m/<uid>.tif               # band 1: plot ids (0: no plot), band 2: crop
                                      # type code (0: no plot, 1: paddy, 2-21: other
                                      # crops), further bands: phenology and yield

The date of an archive is the first 8 characters (YYYYMMDD) of a field of its file
name: Sentinel-2 the first '_' field, or the second when the name starts with 'T'
(tile-prefixed names); Sentinel-1 the fifth; Landsat-8 the third. Scanning lists the
sample folders and parses the names (no archive is opened); the dates of a series
are sorted chronologically.

Samples have the modalities ``s2``, ``s1`` and ``l8`` (those with a folder of
archives; the loader decides what a missing one means), each a dated
``format='npz', keys=[...]`` source with one path per date; the label maps
``gt_seg_map`` (band 2 of the mask) and ``plot_map`` (band 1), which
:class:`SICKLECropTypeMap` turns into the binary labels: 0 paddy (code 1), 1
non-paddy (codes >= 2), 255 ignored: pixels outside plots (plot id or code <= 0) and
pixels of plots whose PLOT_ID is not in the split's rows (neighbouring plots of
another split). The reference maps codes < 0 to paddy; here they are ignored.

Assumption: the tabular file is plain comma-separated with a header row (no quoted
commas in the columns read here).
"""
import csv
import datetime
import os
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from .multimodal_dataset import OfficialLayoutDataset

__all__ = [
    'SICKLE', 'SICKLECropTypeMap', 'SICKLE_CLASSES', 'SICKLE_BANDS', 'sickle_file_date'
]

SICKLE_CLASSES = ('paddy', 'non-paddy')
IGNORE_INDEX = 255

# Modality -> (folder under images/, band keys of the archives).
SICKLE_BANDS = dict(
    s2=('S2', ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11',
               'B12')),
    s1=('S1', ('VV', 'VH')),
    l8=('L8', ('SR_B1', 'SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7',
               'ST_B10')))
# Modality -> the '_' field of the file name that starts with the date.
_DATE_FIELD = dict(s1=4, l8=2)
_COLUMNS = ('UNIQUE_ID', 'PLOT_ID', 'SPLIT')


def sickle_file_date(modality, name):
    """The ISO date of a SICKLE archive from its file name (module doc)."""
    base = osp.basename(name)
    fields = base.split('_')
    if modality == 's2':
        index = 1 if base.startswith('T') else 0
    else:
        index = _DATE_FIELD[modality]
    if len(fields) <= index:
        raise ValueError(f'{name}: a {modality} file name needs a date in "_" field '
                         f'{index + 1}')
    text = fields[index][:8]
    try:
        return datetime.datetime.strptime(text, '%Y%m%d').date().isoformat()
    except ValueError as e:
        raise ValueError(f'{name}: "{text}" (field {index + 1} of the {modality} '
                         'file name) is not a YYYYMMDD date') from e


def read_plot_table(path):
    """Rows of ``sickle_dataset_tabular.csv`` as dicts (header row required)."""
    with open(path, encoding='utf-8', newline='') as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f'{path}: columns {missing} are missing (the header has '
                             f'{reader.fieldnames})')
        return [{
            k.strip(): (v or '').strip()
            for k, v in row.items() if k
        } for row in reader]


def _int(value, path, column):
    try:
        return int(float(value))
    except ValueError as e:
        raise ValueError(f'{path}: {column} {value!r} is not an integer id') from e


@DATASETS.register_module()
class SICKLE(OfficialLayoutDataset):
    """SICKLE crop-type (paddy / non-paddy) segmentation; see the module doc.

    Args:
        split (str): 'train', 'val' or 'test' (the SPLIT column).
        modalities (Sequence[str], optional): Among 's2', 's1', 'l8'; all when None.
        bands (dict, optional): Modality -> band keys to stack (default
            :data:`SICKLE_BANDS`); every archive must hold them.
        table_file (str): The tabular file, relative to ``data_root``.
        mask_dir (str): Folder of the ``<uid>.tif`` masks.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=SICKLE_CLASSES)
    LAYOUT = ('sickle_dataset_tabular.csv (UNIQUE_ID, PLOT_ID, SPLIT), images/{S2,S1,'
              'L8}/npy/<uid>/*.npz (one archive per date) and masks/10m/<uid>.tif')

    def __init__(self,
                 split='train',
                 modalities=None,
                 bands=None,
                 table_file='sickle_dataset_tabular.csv',
                 mask_dir='masks/10m',
                 **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"SICKLE: split must be 'train', 'val' or 'test', got "
                             f'{split!r}')
        self.split = split
        self.modality_names = tuple(SICKLE_BANDS if modalities is None else modalities)
        unknown = [m for m in self.modality_names if m not in SICKLE_BANDS]
        if unknown or not self.modality_names:
            raise ValueError(f'SICKLE: unknown modalities {unknown or "(none)"}; '
                             f'choose among {list(SICKLE_BANDS)}')
        self.bands = {m: tuple(b) for m, (_, b) in SICKLE_BANDS.items()}
        self.bands.update({m: tuple(b) for m, b in (bands or {}).items()})
        self.table_file = table_file
        self.mask_dir = mask_dir
        super().__init__(**kwargs)

    def _series(self, modality, uid):
        """(paths, dates) of a sample's archives, by date; None without a folder."""
        folder = osp.join('images', SICKLE_BANDS[modality][0], 'npy', uid)
        if not osp.isdir(self.root(folder)):
            return None
        names = [n for n in os.listdir(self.root(folder)) if n.endswith('.npz')]
        if not names:
            return None
        items = sorted((sickle_file_date(modality, osp.join(self.root(folder), n)), n)
                       for n in names)
        return [osp.join(folder, n) for _, n in items], [d for d, _ in items]

    def scan(self):
        table = self.root(self.table_file)
        if not osp.isfile(table):
            raise self.layout_error(f'tabular file "{table}" does not exist')
        rows = [r for r in read_plot_table(table) if r['SPLIT'] == self.split]
        raws = []
        for row in rows:
            uid = str(_int(row['UNIQUE_ID'], table, 'UNIQUE_ID'))
            mask = osp.join(self.mask_dir, f'{uid}.tif')
            if not osp.isfile(self.root(mask)):
                raise self.layout_error(f'mask "{self.root(mask)}" of sample {uid} '
                                        'does not exist')
            mods = {}
            for m in self.modality_names:
                series = self._series(m, uid)
                if series is not None:
                    mods[m] = dict(
                        paths=series[0],
                        dates=series[1],
                        format='npz',
                        keys=list(self.bands[m]),
                        bands=list(self.bands[m]))
            if not mods:
                raise self.layout_error(
                    f'sample {uid} has no archives of {list(self.modality_names)} '
                    f'under "{self.root("images")}"')
            raws.append(
                dict(
                    sample_id=uid,
                    plot_id=_int(row['PLOT_ID'], table, 'PLOT_ID'),
                    split=self.split,
                    plot_table=table,
                    modalities=mods,
                    label_maps=dict(
                        gt_seg_map=dict(path=mask, band=1),
                        plot_map=dict(path=mask, band=0))))
        raws.sort(key=lambda r: int(r['sample_id']))
        return raws


_PLOT_CACHE = {}


def split_plot_ids(table, split):
    """The PLOT_IDs of a split's rows of the tabular file (cached per process)."""
    key = (table, split)
    if key not in _PLOT_CACHE:
        rows = read_plot_table(table)
        _PLOT_CACHE[key] = frozenset(
            _int(r['PLOT_ID'], table, 'PLOT_ID') for r in rows if r['SPLIT'] == split)
    return _PLOT_CACHE[key]


@TRANSFORMS.register_module()
class SICKLECropTypeMap(BaseTransform):
    """Binary paddy / non-paddy labels from SICKLE's crop-type and plot-id bands.

    Run after :class:`eofm.LoadMultiModalTiles` with the label maps ``gt_seg_map``
    (crop-type codes) and ``plot_map`` (plot ids): ``gt_seg_map`` becomes 0 for
    paddy (code 1), 1 for the other crops (codes >= 2) and ``ignore_index`` outside
    plots and on plots that are not in the sample's split (the split's PLOT_IDs are
    read once per process from ``results['plot_table']``); ``plot_map`` is removed.

    Args:
        ignore_index (int): Label of ignored pixels. Default 255.
    """

    def __init__(self, ignore_index=IGNORE_INDEX):
        self.ignore_index = int(ignore_index)

    def transform(self, results):
        sid = results.get('sample_id', '?')
        for key in ('gt_seg_map', 'plot_map'):
            if key not in results:
                raise KeyError(f'SICKLECropTypeMap: sample {sid} has no {key!r}; load '
                               'it with LoadMultiModalTiles(label_maps=...)')
        for key in ('plot_table', 'split'):
            if key not in results:
                raise KeyError(f'SICKLECropTypeMap: sample {sid} has no {key!r} '
                               '(build it with eofm.SICKLE)')
        code = np.asarray(results['gt_seg_map'])
        plots = np.asarray(results.pop('plot_map'))
        if code.shape != plots.shape:
            raise ValueError(f'SICKLECropTypeMap: sample {sid}: crop-type map '
                             f'{code.shape} and plot map {plots.shape} differ')
        keep = split_plot_ids(results['plot_table'], results['split'])
        ids = np.unique(plots[plots > 0])
        foreign = [i for i in ids.tolist() if i not in keep]
        label = np.where(code >= 2, 1, 0).astype(np.int64)
        ignored = (code <= 0) | (plots <= 0) | np.isin(plots, foreign)
        label[ignored] = self.ignore_index
        results['gt_seg_map'] = label
        return results

    def __repr__(self):
        return f'{type(self).__name__}(ignore_index={self.ignore_index})'
