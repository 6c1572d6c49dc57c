"""Label transforms: dense annotations -> tile-level multi-label targets.

OmniSat (Astruc et al., "OmniSat: Self-Supervised Modality Fusion for Earth
Observation", ECCV 2024, Sec. 4.1) evaluates PASTIS-HD and FLAIR as multi-label
classification of whole tiles, after Irvin et al. (USat): "each patch is associated
with the labels of all of its pixels". The reference code builds a multi-hot vector
of the classes present in the tile's annotation (PASTIS: the semantic channel of
``TARGET_{id}.npy`` without background 0 and void 19, 18 classes; FLAIR: the mask's
values 1-12 and "other" for 13-19, 13 classes).

:class:`SegMapToMultiLabel` does that conversion on a loaded label map (``gt_seg_map``
of :class:`eofm.LoadMultiModalTiles`): remap the raw values to training indices first
(e.g. :class:`eofm.RemapLabelMap`), then set ``gt_labels`` to the multi-hot of the
classes present, which :class:`eofm.PackMultiModalInputs` packs for multi-label
heads. Pixels of the ``ignore_index`` values count for no class.
"""
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS

__all__ = ['SegMapToMultiLabel']


@TRANSFORMS.register_module()
class SegMapToMultiLabel(BaseTransform):
    """Multi-hot ``gt_labels`` from the classes present in a dense label map.

    Args:
        num_classes (int): Number of classes K; the label map's values must be class
            indices 0..K-1 or one of ``ignore_index``.
        key (str): The label map. Default 'gt_seg_map'.
        out_key (str): Where the multi-hot (K,) int64 vector goes. Default
            'gt_labels' (what :class:`eofm.PackMultiModalInputs` packs).
        ignore_index (int | Sequence[int]): Values that count for no class (void,
            unlabelled). Default 255.
        min_pixels (int): Pixels a class needs to be present. Default 1 (any pixel,
            as OmniSat).
        keep_seg_map (bool): Keep the label map in the results (it is then packed and
            cropped along); default False drops it, a classification sample needs
            only ``gt_labels``.

    Raises:
        KeyError: the label map is not loaded.
        ValueError: it holds values outside 0..K-1 that are not ignored (naming the
            sample and the values).
    """

    def __init__(self,
                 num_classes: int,
                 key: str = 'gt_seg_map',
                 out_key: str = 'gt_labels',
                 ignore_index: Union[int, Sequence[int]] = 255,
                 min_pixels: int = 1,
                 keep_seg_map: bool = False):
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'SegMapToMultiLabel: num_classes must be a positive int, '
                             f'got {num_classes!r}')
        if not isinstance(min_pixels, int) or min_pixels < 1:
            raise ValueError(f'SegMapToMultiLabel: min_pixels must be an int >= 1, got '
                             f'{min_pixels!r}')
        ignore = [ignore_index] if isinstance(ignore_index, int) else list(ignore_index)
        inside = [v for v in ignore if 0 <= v < num_classes]
        if inside:
            raise ValueError(f'SegMapToMultiLabel: ignore_index {inside} are class '
                             f'indices (0..{num_classes - 1})')
        self.num_classes = num_classes
        self.key, self.out_key = key, out_key
        self.ignore_index = tuple(int(v) for v in ignore)
        self.min_pixels = min_pixels
        self.keep_seg_map = keep_seg_map

    def transform(self, results):
        sid = results.get('sample_id', '?')
        if self.key not in results:
            raise KeyError(f'SegMapToMultiLabel: sample {sid}: {self.key!r} is not '
                           "loaded (load it with LoadMultiModalTiles' label_maps "
                           'first)')
        values = np.asarray(results[self.key]).astype(np.int64).ravel()
        values = values[~np.isin(values, self.ignore_index)]
        bad = values[(values < 0) | (values >= self.num_classes)]
        if bad.size:
            raise ValueError(f'SegMapToMultiLabel: sample {sid}: {self.key} has values '
                             f'{sorted(set(bad.tolist()))[:10]} outside the classes '
                             f'0..{self.num_classes - 1} and ignore_index '
                             f'{list(self.ignore_index)}; remap them first (e.g. '
                             'eofm.RemapLabelMap)')
        counts = np.bincount(values, minlength=self.num_classes)
        results[self.out_key] = (counts >= self.min_pixels).astype(np.int64)
        if not self.keep_seg_map:
            results.pop(self.key)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'key={self.key!r}, ignore_index={list(self.ignore_index)})')
