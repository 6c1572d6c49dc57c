"""Transforms of multi-modal, multi-temporal samples."""
from .bands import AppendBandRatio, ArrangeBands
from .formatting import PackMultiModalInputs
from .geometric import (AlignedCenterCrop, AlignedRandomCrop, AlignedRandomFlip,
                        AlignedRandomResizedCrop, AlignedRandomRot90)
from .labels import SegMapToMultiLabel
from .loading import SENSOR_SCALINGS, LoadMultiModalTiles
from .multiview import MultiModalMultiView
from .photometric import RandomColorJitter, RandomGaussianBlur, RandomSolarize
from .temporal import (SCL_CLOUD_CLASSES, DateJitter, FilterCloudyDates, RenameModality,
                       TemporalSample)

__all__ = [
    'AppendBandRatio', 'ArrangeBands', 'AlignedCenterCrop', 'AlignedRandomCrop',
    'AlignedRandomFlip', 'AlignedRandomResizedCrop', 'AlignedRandomRot90', 'DateJitter',
    'FilterCloudyDates', 'LoadMultiModalTiles', 'MultiModalMultiView',
    'PackMultiModalInputs', 'RandomColorJitter', 'RandomGaussianBlur', 'RandomSolarize',
    'RenameModality', 'SCL_CLOUD_CLASSES', 'SENSOR_SCALINGS', 'SegMapToMultiLabel',
    'TemporalSample'
]
