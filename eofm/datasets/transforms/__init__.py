"""Transforms of multi-modal, multi-temporal samples."""
from .loading import SENSOR_SCALINGS, LoadMultiModalTiles

__all__ = ['LoadMultiModalTiles', 'SENSOR_SCALINGS']
