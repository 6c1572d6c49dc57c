"""AnySat (CVPR 2025): the encoder, its modality projectors and spatial transformer."""
from .anysat import ANYSAT_MODALITIES, AnySat
from .jepa import AnySatJEPA, AnySatPredictor, MultiBlockMaskCollator  # noqa: F401
from .projectors import (ImagePatchProjector, TimeSeriesProjector,
                         subpatch_raster_index)
from .spatial_transformer import AnySatSpatialTransformer

__all__ = [
    'AnySat', 'ANYSAT_MODALITIES', 'ImagePatchProjector', 'TimeSeriesProjector',
    'AnySatSpatialTransformer', 'subpatch_raster_index'
]
