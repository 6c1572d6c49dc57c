"""The annotation-file dataset every multi-modal eofm sample goes through."""
import os.path as osp

from mmengine.dataset import BaseDataset

from eofm.registry import DATASETS

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
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    # Shorthands of label_maps entries.
    LABEL_PATH_KEYS = dict(seg_map_path='gt_seg_map', change_map_path='gt_change_map')

    def __init__(self, ann_file='', data_root='', date_format=None, **kwargs):
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
