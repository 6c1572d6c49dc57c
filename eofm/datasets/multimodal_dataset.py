"""The annotation-file dataset every multi-modal eofm sample goes through."""
import os.path as osp

from mmengine.dataset import BaseDataset

from eofm.registry import DATASETS

__all__ = ['MultiModalDataset']


@DATASETS.register_module()
class MultiModalDataset(BaseDataset):
    """Multi-modal, multi-temporal samples described by an MMEngine annotation file.

    The annotation file is JSON (or YAML / pickle) in MMEngine's ``BaseDataset``
    format::

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
              "gt_labels": [0, 4],               # multi-label
              "seg_map_path": "labels/tile_0001.tif",
              "change_map_path": "change/tile_0001.tif"
            }
          ]
        }

    Every modality is optional per sample; which ones a pipeline needs, and what
    happens when one is missing, is :class:`LoadMultiModalTiles`' business. Relative
    paths are resolved against ``data_root`` (``data_prefix['img_path']`` when given).

    Args:
        ann_file (str): The annotation file.
        data_root (str): Root of the relative paths.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    PATH_KEYS = ('seg_map_path', 'change_map_path')

    def __init__(self, ann_file, data_root='', **kwargs):
        full = ann_file if osp.isabs(ann_file) or not data_root else osp.join(
            data_root, ann_file)
        if not osp.isfile(full):
            raise FileNotFoundError(
                f'{type(self).__name__}: annotation file {full} does not exist '
                '(check ann_file and data_root in the dataset config)')
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _abs(self, path):
        root = self.data_prefix.get('img_path') or self.data_root or ''
        return path if osp.isabs(path) else osp.join(root, path)

    def parse_data_info(self, raw_data_info):
        info = dict(raw_data_info)
        sid = info.get('sample_id', '?')
        modalities = info.get('modalities')
        if not isinstance(modalities, dict) or not modalities:
            raise ValueError(f'{self.ann_file}: sample {sid} has no "modalities" dict')
        resolved = {}
        for name, desc in modalities.items():
            desc = dict(desc)
            if 'path' in desc:
                desc['path'] = self._abs(desc['path'])
            if 'paths' in desc:
                desc['paths'] = [self._abs(p) for p in desc['paths']]
            if 'path' not in desc and 'paths' not in desc:
                raise ValueError(f'{self.ann_file}: sample {sid}, modality {name!r} '
                                 "needs 'path' or 'paths'")
            resolved[name] = desc
        info['modalities'] = resolved
        for key in self.PATH_KEYS:
            if info.get(key):
                info[key] = self._abs(info[key])
        return info
