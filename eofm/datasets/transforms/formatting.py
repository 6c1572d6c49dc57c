"""Packing of multi-modal results into model inputs and a data sample."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures import MultiModalDataSample, identity_geometry
from eofm.structures.batch_schema import dates_key

__all__ = ['PackMultiModalInputs']

_PER_MODALITY = ('', '_mask', '_doy', '_date_mask')
_LABEL_MAPS = ('gt_seg_map', 'gt_change_map', 'gt_instance_map')


def _tensor(arr, dtype=None):
    """A tensor of ``arr``, copied only when it is not C-contiguous or has a
    negative stride (numpy keeps the stride of a flipped 1-pixel axis in a
    "contiguous" view, which torch refuses)."""
    if isinstance(arr, np.ndarray):
        arr = np.ascontiguousarray(arr)
        if any(s < 0 for s in arr.strides):
            arr = arr.copy()
        t = torch.from_numpy(arr)
    else:
        t = torch.as_tensor(arr)
    return t if dtype is None else t.to(dtype)


@TRANSFORMS.register_module()
class PackMultiModalInputs(BaseTransform):
    """Pack ``results`` into ``dict(inputs=..., data_samples=...)``.

    ``inputs`` is a dict of tensors: for each modality ``m`` present, ``m`` (the
    pixels), ``m_mask`` (validity) and, for dated modalities, ``m_doy`` and
    ``m_date_mask`` (True for real, False for padded dates). Labels go to a
    :class:`MultiModalDataSample` with the geo-metadata. After
    :class:`MultiModalMultiView`, ``inputs`` is a list with one such dict per view
    and the sample's ``view_geometries`` lists each view's 3 x 3 map onto the
    footprint (``geometry`` for a single view).

    Args:
        modalities (Sequence[str]): Modalities to pack (those absent from a sample
            are skipped; the data preprocessor marks them missing in the batch).
        meta_keys (Sequence[str]): Keys copied into the sample's metainfo.
    """

    def __init__(self, modalities,
                 meta_keys=('sample_id', 'geo', 'modalities_present')):
        self.modalities = tuple(modalities)
        self.meta_keys = tuple(meta_keys)

    def _inputs(self, results):
        inputs = {}
        for name in self.modalities:
            if name not in results:
                continue
            for suffix in _PER_MODALITY:
                key = name + suffix
                if key in results:
                    inputs[key] = _tensor(results[key])
        return inputs

    def transform(self, results):
        views = results.get('views')
        inputs = [self._inputs(v) for v in views] if views else self._inputs(results)
        sample = MultiModalDataSample()
        if 'gt_label' in results:
            sample.gt_label = torch.as_tensor(results['gt_label'], dtype=torch.long)
        if 'gt_labels' in results:
            sample.gt_labels = torch.as_tensor(
                results['gt_labels'], dtype=torch.float32)
        for key in _LABEL_MAPS:
            if key in results:
                setattr(sample, key, _tensor(results[key], torch.long))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        if views:
            meta['view_geometries'] = [
                np.asarray(v.get('geometry', identity_geometry())).tolist()
                for v in views
            ]
        elif 'geometry' in results:
            meta['geometry'] = np.asarray(results['geometry']).tolist()
        for name in self.modalities:
            if dates_key(name) in results:
                meta[dates_key(name)] = results[dates_key(name)]
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self):
        return f'{self.__class__.__name__}(modalities={self.modalities})'
