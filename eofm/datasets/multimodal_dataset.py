"""The annotation-file dataset every multi-modal eofm sample goes through."""
import logging
import os.path as osp

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from eofm.registry import DATASETS
from eofm.structures.batch_schema import split_key
from .validation import ALL_INVALID_POLICIES, IGNORE_INDEX, label_problems

__all__ = ['MultiModalDataset', 'OfficialLayoutDataset', 'S2_BANDS']


@DATASETS.register_module()
class MultiModalDataset(BaseDataset):
    """Multi-modal, multi-temporal samples described by an MMEngine annotation file.

    The annotation file is JSON (or YAML / pickle of plain data, read without
    running code: :mod:`eofm.datasets.annotation_files`) in MMEngine's
    ``BaseDataset`` format::

        {
          "metainfo": {"classes": ["forest", "water", ...]},
          "data_list": [
            {
              "sample_id": "tile_0001",
              "modalities": {
                "hr": {"path": "hr/tile_0001.tif", "bands": ["R", "G", "B", "NIR"]},
                "s2": {"paths": ["s2/tile_0001_20200105.tif", ...],
                       "dates": ["2020-01-05", ...],
                       "bands": ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A",
                                 "B11", "B12"]},
                "s1": {"path": "s1/tile_0001.tif", "dates": [...],
                       "bands": ["VV", "VH"]}
              },
              "gt_label": 3,                     # single-label classification
              "gt_labels": [0, 1, 0, 0, 1],      # multi-label, multi-hot
              "label_maps": {"gt_seg_map": {"path": "labels/tile_0001.tif"},
                             "gt_change_map": {"path": "change/tile_0001.tif"}},
              "geo": {"lon": 11.5, "lat": 48.1}  # only for non-geo-referenced files
            }
          ]
        }

    Dates are strings in an unambiguous form (``'2020-01-05'``, ``'20200105'``,
    ``'2020005'`` = year + day of year, as Landsat and MODIS name scenes; see
    :func:`eofm.datasets.geo_io.parse_date`); other spellings need a
    ``date_format`` (``strptime``), given per modality in the sample
    (``"date_format": "%d/%m/%Y"``) or for the dataset (``date_format=``). A date
    that does not parse is an error naming the sample and the modality when the
    sample is loaded (``tools/misc/check_dataset.py`` lists them all).

    A modality is one file (``path``; a date-major stack when ``dates`` are given),
    one file per date (``paths``) or one file per band (``band_paths``), in any GDAL
    format or as ``.npy`` / HDF5 arrays (``format='npy'`` / ``'h5'`` with ``key``;
    see :mod:`eofm.datasets.raster_sources`). Every modality is optional per sample;
    which ones a pipeline needs, and what happens when one is missing, is
    :class:`LoadMultiModalTiles`' business. Label rasters go in ``label_maps``
    (``seg_map_path`` / ``change_map_path`` are accepted as shorthands). Relative
    paths are resolved against ``data_root`` (``data_prefix['img_path']`` when given).

    Benchmark datasets subclass this class and build the same ``data_list`` from
    their official directory layouts in :meth:`load_data_list` (they set
    ``ann_file=''`` and need no annotation file).

    Args:
        ann_file (str): The annotation file.
        data_root (str): Root of the relative paths.
        date_format (str | dict, optional): ``strptime`` format of the samples'
            dates, for all modalities or per modality name (``dict(l7='%Y%j')``);
            a sample's own ``date_format`` wins.
        ignore_index (int | None): The label value of unlabelled pixels
            (``gt_seg_map``); other values must be below the number of classes.
        all_invalid (str, optional): What happens to a sample one of whose
            modalities has no valid pixel (all nodata / NaN; marked by
            :class:`LoadMultiModalTiles`): ``'skip'`` (another sample is drawn, and
            the log counts the skipped ones), ``'drop'`` (the modality is removed
            from the inputs, so the batch marks it missing, with a warning) or
            ``'error'``. Default: ``'skip'`` in training, ``'drop'`` in test mode
            (a test set keeps every sample).
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.

    Every sample's labels are checked against the classes of the dataset
    (``metainfo['classes']``): a ``gt_label`` or a ``gt_seg_map`` value outside them
    is an error naming the sample and the field (:func:`eofm.datasets.validation.
    label_problems`), not torch's "Target N is out of bounds" many steps later.
    """

    # Shorthands of label_maps entries.
    LABEL_PATH_KEYS = dict(seg_map_path='gt_seg_map', change_map_path='gt_change_map')

    def __init__(self, ann_file='', data_root='', date_format=None,
                 ignore_index=IGNORE_INDEX, all_invalid=None, **kwargs):
        if all_invalid is not None and all_invalid not in ALL_INVALID_POLICIES:
            raise ValueError(f'{type(self).__name__}: all_invalid must be one of '
                             f'{ALL_INVALID_POLICIES}, got {all_invalid!r}')
        self.ignore_index = ignore_index
        self.all_invalid = all_invalid or ('drop' if kwargs.get('test_mode') else
                                           'skip')
        self.num_all_invalid = 0
        if date_format is not None and not isinstance(date_format, (str, dict)):
            raise TypeError(f'{type(self).__name__}: date_format must be a strptime '
                            f'format or a dict modality -> format, got {date_format!r}')
        self.date_format = date_format
        full = ann_file if osp.isabs(ann_file) or not data_root else osp.join(
            data_root, ann_file)
        if self._needs_ann_file() and not osp.isfile(full):
            raise FileNotFoundError(
                f'{type(self).__name__}: annotation file {full} does not exist '
                '(check ann_file and data_root in the dataset config)')
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self):
        """MMEngine's annotation format, read safely (no pickle / YAML code runs)."""
        from .annotation_files import AnnotationFileError, load_annotation_file
        ann = load_annotation_file(self.ann_file)
        if not isinstance(ann, dict) or 'data_list' not in ann:
            raise AnnotationFileError(
                f'{self.ann_file}: expected a mapping with "data_list" (and '
                f'"metainfo"), got {type(ann).__name__}'
                + (f' with keys {sorted(ann)}' if isinstance(ann, dict) else ''))
        if not isinstance(ann['data_list'], list):
            raise AnnotationFileError(f'{self.ann_file}: "data_list" must be a list, got '
                                      f'{type(ann["data_list"]).__name__}')
        for k, v in (ann.get('metainfo') or {}).items():
            self._metainfo.setdefault(k, v)
        out = []
        for i, raw in enumerate(ann['data_list']):
            if not isinstance(raw, dict):
                raise AnnotationFileError(f'{self.ann_file}: data_list[{i}] must be a '
                                          f'mapping, got {type(raw).__name__}')
            out.append(self.parse_data_info(raw))
        return out

    #: Label field -> the ``metainfo`` key of the names its values index, where a
    #: field does not index ``classes``.
    LABEL_CLASSES = {}

    #: The ``num_classes`` of the model trained on the dataset, set before training
    #: (:class:`eofm.DataContractHook`): labels must be below it too.
    model_num_classes = None
    #: The model's ``ignore_index`` (its decode head's), also set before training.
    model_ignore_index = None

    def label_classes(self):
        """``{field: class names}`` the labels of a sample are checked against."""
        meta = self.metainfo
        return {
            key: meta.get(self.LABEL_CLASSES.get(key, 'classes'))
            for key in ('gt_label', 'gt_labels', 'gt_seg_map')
        }

    def prepare_data(self, idx):
        """The pipeline's output for sample ``idx``, with its labels checked and
        the all-invalid policy applied (None: skipped, another sample is drawn)."""
        info = self.get_data_info(idx)
        data = self.pipeline(info)
        if data is None:
            return None
        sid = info.get('sample_id', idx)
        bad = label_problems(data, self.label_classes(),
                             (self.ignore_index, self.model_ignore_index),
                             self.model_num_classes)
        if bad:
            raise ValueError(f'{self.ann_file or type(self).__name__}: sample {sid}: '
                             + '; '.join(bad))
        invalid = info.get('all_invalid') or []  # set by LoadMultiModalTiles
        if not invalid:
            return data
        what = (f'sample {sid}: modality {", ".join(map(repr, invalid))} has no valid '
                'pixel (all nodata / NaN)')
        if self.all_invalid == 'error':
            raise ValueError(f'{self.ann_file or type(self).__name__}: {what} '
                             "(all_invalid='error')")
        self.num_all_invalid += 1
        if self.num_all_invalid <= 10 or self.num_all_invalid % 100 == 0:
            action = ('skipped' if self.all_invalid == 'skip' else
                      'the modality is dropped (missing in the batch)')
            print_log(f'{type(self).__name__}: {what}: {action} '
                      f'({self.num_all_invalid} such samples so far)',
                      logger='current', level=logging.WARNING)
        if self.all_invalid == 'skip':
            return None
        for inputs in (data['inputs'] if isinstance(data['inputs'], list) else
                       [data['inputs']]):
            for key in [k for k in inputs if split_key(k)[0] in invalid]:
                del inputs[key]
        return data

    def _needs_ann_file(self):
        """False for subclasses that scan an official layout instead."""
        return type(self).load_data_list is MultiModalDataset.load_data_list

    def _abs(self, path):
        root = self.data_prefix.get('img_path') or self.data_root or ''
        return path if osp.isabs(path) else osp.join(root, path)

    def parse_data_info(self, raw_data_info):
        info = dict(raw_data_info)
        sid = info.get('sample_id', '?')
        modalities = info.get('modalities')
        if not isinstance(modalities, dict) or not modalities:
            raise ValueError(f'{self.ann_file}: sample {sid} has no "modalities" dict')
        info['modalities'] = {
            name: self._with_date_format(
                name, self._resolve(desc, f'sample {sid}, modality {name!r}'))
            for name, desc in modalities.items()
        }
        label_maps = dict(info.get('label_maps') or {})
        for short, key in self.LABEL_PATH_KEYS.items():
            if info.get(short):
                label_maps.setdefault(key, dict(path=info[short]))
        info['label_maps'] = {
            key: self._resolve(desc, f'sample {sid}, label map {key!r}')
            for key, desc in label_maps.items()
        }
        return info

    def _with_date_format(self, name, desc):
        """The modality's description with the dataset's date format (if any)."""
        fmt = self.date_format.get(name) if isinstance(self.date_format,
                                                       dict) else self.date_format
        if fmt is not None and desc.get('dates') is not None:
            desc.setdefault('date_format', fmt)
        return desc

    def _resolve(self, desc, where):
        desc = dict(desc)
        if not any(k in desc for k in ('path', 'paths', 'band_paths')):
            raise ValueError(f"{self.ann_file or type(self).__name__}: {where} needs "
                             "'path', 'paths' or 'band_paths'")
        if 'path' in desc:
            desc['path'] = self._abs(desc['path'])
        for key in ('paths', 'band_paths'):
            if key in desc:
                desc[key] = [self._abs(p) for p in desc[key]]
        return desc


# The 13 Sentinel-2 bands in the usual order (B8A after B08).
S2_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10',
            'B11', 'B12')


class OfficialLayoutDataset(MultiModalDataset):
    """A :class:`MultiModalDataset` that scans an official layout instead of an
    annotation file.

    Subclasses implement :meth:`scan` (raw sample dicts with paths relative to
    ``data_root``) and describe their layout in ``LAYOUT`` (quoted in errors).
    """

    LAYOUT = ''

    def load_data_list(self):
        raws = self.scan()
        if not raws:
            raise FileNotFoundError(
                f'{type(self).__name__}: no samples found under "{self.data_root}"; '
                f'expected {self.LAYOUT}')
        return [self.parse_data_info(raw) for raw in raws]

    def scan(self):
        raise NotImplementedError

    # ----------------------------------------------------------- shared readers
    def root(self, *parts):
        """A path under ``data_root`` (``parts`` may already be absolute)."""
        return osp.join(self.data_root or '', *parts)

    def layout_error(self, message):
        return FileNotFoundError(f'{type(self).__name__}: {message}; expected '
                                 f'{self.LAYOUT}')

    def require_dir(self, rel, what):
        if not osp.isdir(self.root(rel)):
            raise self.layout_error(f'{what} folder "{self.root(rel)}" does not exist')
        return self.root(rel)

    def read_rows(self, rel, what):
        """Non-empty lines of a text/CSV file, split at commas and stripped."""
        path = self.root(rel)
        if not osp.isfile(path):
            raise self.layout_error(f'{what} "{path}" does not exist')
        with open(path, encoding='utf-8') as f:
            rows = [[c.strip() for c in line.split(',')] for line in f]
        return [r for r in rows if any(r)]

    def read_names(self, files, what):
        """The set of first fields of every row of ``files`` (exclusion lists)."""
        return {row[0] for rel in files for row in self.read_rows(rel, what)}
