"""PLANTED in the exported NumPy layout of the AnySat reference.

PLANTED (Pazos-Outon et al., "Planted: a dataset for planted forest identification
from multi-satellite time series", IGARSS 2024) has 1.3 M tiles of 120 m x 120 m,
each labelled with one of 40 tree species / plantation classes, and five satellite
series per tile:

=========  ======  =====  ====================  ==================================
modality   pixel   dates  bands                 tile
=========  ======  =====  ====================  ==================================
``s2``     10 m    8      10 (Sentinel-2 L2A)    12 x 12 px
``s1``     10 m    8      VV, VH (Sentinel-1)    12 x 12 px
``l7``     30 m    20     6 (Landsat 7)          4 x 4 px
``alos``   30 m    4      HH, HV (ALOS-2)        4 x 4 px
``modis``  250 m   60     7 (MODIS)              1 x 1 px (one pixel for the tile)
=========  ======  =====  ====================  ==================================

The official release is TFRecords; the AnySat reference (``gastruc/AnySat``,
``src/data/Planted.py``) reads an export of it, which is the layout read here::

    <split>/labels2.json                  # {"<tile id>": <class index 0-39>, ...}
    <split>/<id>/<id>_<m>.npz             # arr_0: (T, H, W, C) channel-last pixels
    <split>/<id>/<id>_<m>_mask.npz        # arr_0: (T, H, W, C) validity (non-zero:
                                          # valid)
    <split>/<id>/<id>_<m>_timestamp.npz   # arr_0: (T,) acquisition times, ms since
                                          # the Unix epoch

for ``<split>`` in ``train``, ``val``, ``test`` and ``<m>`` in ``s2``, ``s1``,
``l7``, ``alos``, ``modis``.

Scanning reads ``labels2.json`` only (1.3 M tiles: no tile file is opened or
stat-ed). The pixel files are described as ``format='npz', axes='THWC'`` sources;
the dates and validity masks live in side files that the loading pipeline reads:
:class:`LoadPlantedDates` (before :class:`eofm.LoadMultiModalTiles`) turns the
timestamps into ISO dates (UTC) and :class:`LoadPlantedMasks` (after it) combines
the mask files with the loaded validity: a pixel of a date is valid when every
channel of the mask file is non-zero (its data are set to 0 otherwise, as the
loader does for nodata).

Assumptions (the export is not documented):

* band names (only used to check the channel counts of the files; the files' order
  is kept): ``s2`` B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12; ``s1`` VV, VH;
  ``l7`` B1, B2, B3, B4, B5, B7 (AnySat's 'l7' projector takes 6 channels); ``alos``
  HH, HV; ``modis`` B1-B7 (surface reflectance, AnySat's 'modis' takes 7). A file
  with another channel count raises an error naming it;
* the mask files hold 1 (or any non-zero value) where valid, the Earth Engine
  convention of the export;
* class indices are those of ``labels2.json`` in the order of
  :data:`PLANTED_CLASSES` (the reference's class list).
"""
import datetime
import json
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from eofm.structures.batch_schema import mask_key
from .multimodal_dataset import OfficialLayoutDataset

__all__ = [
    'PLANTED', 'LoadPlantedDates', 'LoadPlantedMasks', 'PLANTED_CLASSES',
    'PLANTED_MODALITIES', 'milliseconds_to_dates', 'side_file'
]

PLANTED_CLASSES = ('Elaeis guineensis', 'Pinus taeda', 'Pinus rigida',
                   'Pinus koraiensis', 'Pinus densiflora', 'Abies sachalinensis',
                   'Pinus elliottii', 'Shorea robusta', 'Castanea crenata',
                   'Pseudotsuga menziesii', 'Eucalyptus globulus', 'Pinus radiata',
                   'Robinia pseudoacacia', 'Pinus thunbergii', 'Pinus echinata',
                   'Thea sinensis', 'Betula pendula', 'Hevea brasiliensis',
                   'Picea glehnii', 'Quercus acutissima', 'Eucalyptus nitens',
                   'Cocos nucifera', 'Anacardium occidentale', 'Zelkova serrata',
                   'Acer pictum', 'Prunus serrulata', 'Prunus dulcis',
                   'Picea jezoensis', 'Quercus variabilis', 'Fraxinus rhynchophylla',
                   'Ginkgo biloba', 'Pasania edulis', 'Dendropanax morbiferus',
                   'Machilus thunbergii', 'Cryptomeria japonica', 'Acacia melanoxylon',
                   'Malus pumila', 'Picea mariana', 'Cornus controversa',
                   'Theobroma cacao')

# Modality -> assumed band names (their number is checked against the files).
PLANTED_MODALITIES = dict(
    s2=('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12'),
    s1=('VV', 'VH'),
    l7=('B1', 'B2', 'B3', 'B4', 'B5', 'B7'),
    alos=('HH', 'HV'),
    modis=('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7'))

_EPOCH = datetime.datetime(1970, 1, 1)


@DATASETS.register_module()
class PLANTED(OfficialLayoutDataset):
    """PLANTED tile classification (40 classes); see the module doc for the layout.

    Each sample has the modalities asked for (``format='npz', axes='THWC'``,
    without dates: :class:`LoadPlantedDates` adds them at load time from the
    ``_timestamp`` file next to each) and ``gt_label``. The side files are not
    listed in the samples (1.3 M tiles): the transforms derive them from ``path``.

    Args:
        split (str): 'train', 'val' or 'test' (the folder under ``data_root``).
        modalities (Sequence[str], optional): Among 's2', 's1', 'l7', 'alos',
            'modis'; all five when None.
        label_file (str): The label file inside the split folder.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=PLANTED_CLASSES)
    LAYOUT = ('<split>/labels2.json (tile id -> class index) and <split>/<id>/'
              '<id>_<m>.npz, <id>_<m>_mask.npz, <id>_<m>_timestamp.npz for '
              'm in s2, s1, l7, alos, modis')

    def __init__(self,
                 split='train',
                 modalities=None,
                 label_file='labels2.json',
                 **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"PLANTED: split must be 'train', 'val' or 'test', got "
                             f'{split!r}')
        self.split = split
        self.modality_names = tuple(PLANTED_MODALITIES if modalities is
                                    None else modalities)
        unknown = [m for m in self.modality_names if m not in PLANTED_MODALITIES]
        if unknown or not self.modality_names:
            raise ValueError(f'PLANTED: unknown modalities {unknown or "(none)"}; '
                             f'choose among {list(PLANTED_MODALITIES)}')
        self.label_file = label_file
        super().__init__(**kwargs)

    def _labels(self):
        rel = osp.join(self.split, self.label_file)
        path = self.root(rel)
        if not osp.isfile(path):
            raise self.layout_error(f'label file "{path}" does not exist')
        try:
            with open(path, encoding='utf-8') as f:
                labels = json.load(f)
        except ValueError as e:
            raise ValueError(f'{path}: not valid JSON ({e})') from e
        if not isinstance(labels, dict):
            raise ValueError(f'{path}: expected an object of tile id -> class index, '
                             f'got {type(labels).__name__}')
        n = len(PLANTED_CLASSES)
        for tile, label in labels.items():
            if isinstance(label, bool) or not isinstance(label, int) \
                    or not 0 <= label < n:
                raise ValueError(f'{path}: tile {tile!r} has label {label!r}; '
                                 f'expected a class index in [0, {n})')
        return labels

    def scan(self):
        labels = self._labels()
        raws = []
        for tile in sorted(labels):
            folder = osp.join(self.split, tile)
            mods = {}
            for m in self.modality_names:
                stem = osp.join(folder, f'{tile}_{m}')
                mods[m] = dict(
                    path=stem + '.npz',
                    format='npz',
                    key='arr_0',
                    axes='THWC',
                    bands=list(PLANTED_MODALITIES[m]))
            raws.append(dict(sample_id=tile, modalities=mods, gt_label=labels[tile]))
        return raws


def side_file(desc, kind):
    """The ``<id>_<m>_<kind>.npz`` file next to a modality's ``<id>_<m>.npz``
    (or the description's explicit ``<kind>_path``)."""
    if desc.get(f'{kind}_path'):
        return desc[f'{kind}_path']
    path = desc.get('path') or ''
    if not path.endswith('.npz'):
        raise ValueError(f'{path or desc}: a PLANTED modality is one <id>_<m>.npz '
                         f'file; cannot locate its {kind} file')
    return path[:-len('.npz')] + f'_{kind}.npz'


def _load_npz(path, what, sample_id):
    if not osp.isfile(path):
        raise FileNotFoundError(f'sample {sample_id}: {what} file {path} does not '
                                'exist')
    try:
        with np.load(path) as store:
            if 'arr_0' not in store:
                raise KeyError(f'{path}: array key "arr_0" not found (the file has '
                               f'{sorted(store.keys())})')
            return np.asarray(store['arr_0'])
    except (KeyError, FileNotFoundError):
        raise
    except Exception as e:  # numpy raises many types for corrupt archives
        raise ValueError(f'{path}: not a readable .npz archive ({e})') from e


def milliseconds_to_dates(ms, source='timestamps'):
    """ISO dates (UTC) of acquisition times in milliseconds since the Unix epoch."""
    ms = np.asarray(ms).reshape(-1)
    if not np.all(np.isfinite(ms.astype(np.float64))):
        raise ValueError(f'{source}: timestamps must be finite milliseconds since '
                         '1970-01-01')
    return [(_EPOCH + datetime.timedelta(milliseconds=float(v))).date().isoformat()
            for v in ms]


@TRANSFORMS.register_module()
class LoadPlantedDates(BaseTransform):
    """Give each PLANTED modality its dates from ``<id>_<m>_timestamp.npz``.

    Run before :class:`eofm.LoadMultiModalTiles`: for every modality of
    ``results['modalities']`` (``<id>_<m>.npz``, see :class:`PLANTED`), the (T,)
    milliseconds since the Unix epoch of ``<id>_<m>_timestamp.npz`` (or of the
    description's ``timestamp_path``) become ``dates`` (ISO, UTC), so that the
    loader reads the (T, H, W, C) file as a dated series.

    Args:
        modalities (Sequence[str], optional): Modalities to date; all those of the
            sample without ``dates`` when None.
    """

    def __init__(self, modalities=None):
        self.modalities = None if modalities is None else tuple(modalities)

    def transform(self, results):
        sid = results.get('sample_id', '?')
        described = dict(results.get('modalities') or {})
        names = self.modalities or [m for m, d in described.items() if 'dates' not in d]
        for name in names:
            if name not in described:
                continue
            desc = dict(described[name])
            path = side_file(desc, 'timestamp')
            ms = _load_npz(path, f'{name} timestamp', sid)
            desc['dates'] = milliseconds_to_dates(ms, path)
            described[name] = desc
        results['modalities'] = described
        return results

    def __repr__(self):
        return f'{type(self).__name__}(modalities={self.modalities})'


@TRANSFORMS.register_module()
class LoadPlantedMasks(BaseTransform):
    """Combine the loaded validity of PLANTED modalities with their mask files.

    Run after :class:`eofm.LoadMultiModalTiles`: ``<id>_<m>_mask.npz`` (T, H, W, C;
    or the description's ``mask_path``) is non-zero where valid; a pixel of a date
    stays valid when every channel of the mask is non-zero (and the loader found it
    valid). Invalid pixels are set to 0, as the loader does for nodata. The mask
    must have the shape of the loaded series (the loader reads PLANTED at its
    native size).

    Args:
        modalities (Sequence[str], optional): Modalities to mask; all loaded ones
            when None.
    """

    def __init__(self, modalities=None):
        self.modalities = None if modalities is None else tuple(modalities)

    def transform(self, results):
        sid = results.get('sample_id', '?')
        described = results.get('modalities') or {}
        names = self.modalities or results.get('modalities_present', [])
        for name in names:
            if name not in results:
                continue
            if name not in described:
                raise KeyError(f'LoadPlantedMasks: sample {sid} does not describe '
                               f'modality {name!r} (build it with eofm.PLANTED)')
            path = side_file(described[name], 'mask')
            raw = _load_npz(path, f'{name} mask', sid)
            data = results[name]
            if raw.ndim != 4 or raw.shape[:3] != (data.shape[0], *data.shape[-2:]):
                raise ValueError(
                    f'{path}: mask of shape {raw.shape}, expected (T, H, W, C) with '
                    f'(T, H, W) = {(data.shape[0], *data.shape[-2:])} as the loaded '
                    f'{name!r}')
            valid = np.all(raw != 0, axis=-1)
            mask = results.get(mask_key(name))
            mask = valid if mask is None else (np.asarray(mask) & valid)
            results[name] = np.where(mask[:, None], data, 0).astype(data.dtype)
            results[mask_key(name)] = mask
        return results

    def __repr__(self):
        return f'{type(self).__name__}(modalities={self.modalities})'
