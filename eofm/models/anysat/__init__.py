"""AnySat (CVPR 2025): the encoder, its modality projectors and spatial transformer,
and the JEPA pretraining."""
from .anysat import ANYSAT_MODALITIES, AnySat
from .jepa import AnySatJEPA, AnySatPredictor, MultiBlockMaskCollator
from .release import detect_anysat  # noqa: F401 - registers the layout
from .projectors import (ImagePatchProjector, TimeSeriesProjector,
                         subpatch_raster_index)
from .spatial_transformer import AnySatSpatialTransformer

__all__ = [
    'AnySat', 'ANYSAT_MODALITIES', 'ImagePatchProjector', 'TimeSeriesProjector',
    'AnySatSpatialTransformer', 'subpatch_raster_index', 'AnySatJEPA',
    'AnySatPredictor', 'MultiBlockMaskCollator'
]
