"""Transforms of multi-modal, multi-temporal samples."""
from .formatting import PackMultiModalInputs
from .loading import SENSOR_SCALINGS, LoadMultiModalTiles
from .temporal import DateJitter, TemporalSample

__all__ = ['DateJitter', 'LoadMultiModalTiles', 'PackMultiModalInputs', 'SENSOR_SCALINGS',
           'TemporalSample']
