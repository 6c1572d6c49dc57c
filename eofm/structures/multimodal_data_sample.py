"""The data sample that travels with every multi-modal batch."""
from mmengine.structures import BaseDataElement

__all__ = ['MultiModalDataSample']


class MultiModalDataSample(BaseDataElement):
    """Labels and geo-metadata of one multi-modal sample.

    Data fields (set when the task has them): ``gt_label`` (long tensor, class id),
    ``gt_labels`` (multi-hot float tensor), ``gt_seg_map`` (long tensor (H, W)),
    ``gt_change_map``. Meta fields: ``sample_id``, ``geo`` (CRS, bounds,
    geotransform, ``lon``/``lat``), per dated modality ``{m}_dates``, and
    ``modalities_present``. The pixel data themselves live in the batch ``inputs``.
    """
