"""Data structures shared by eofm's datasets and models."""
from . import batch_schema
from .batch import zero_invalid_pixels
from .multimodal_data_sample import MultiModalDataSample
from .task_samples import (TASK_SAMPLE_CONVERTERS, to_cls_data_sample,
                           to_seg_data_sample)
from .view_geometry import (crop_geometry, flip_geometry, footprint_coords,
                            identity_geometry, match_views, rot90_geometry)

__all__ = [
    'batch_schema', 'MultiModalDataSample', 'crop_geometry', 'flip_geometry', 'footprint_coords',
    'identity_geometry', 'match_views', 'rot90_geometry', 'TASK_SAMPLE_CONVERTERS',
    'to_cls_data_sample', 'to_seg_data_sample', 'zero_invalid_pixels'
]
