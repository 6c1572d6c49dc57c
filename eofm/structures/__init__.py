"""Data structures shared by eofm's datasets and models."""
from .multimodal_data_sample import MultiModalDataSample
from .view_geometry import (crop_geometry, flip_geometry, footprint_coords,
                            identity_geometry, match_views, rot90_geometry)

__all__ = [
    'MultiModalDataSample', 'crop_geometry', 'flip_geometry', 'footprint_coords',
    'identity_geometry', 'match_views', 'rot90_geometry'
]
