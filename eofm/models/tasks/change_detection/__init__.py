"""Bi-temporal change detection: a Siamese detector around any backbone and the
change heads of SkySense's evaluation (BIT on LEVIR-CD, a U-Net on OSCD)."""
from .base_change_head import BaseChangeHead
from .bit_head import BITHead
from .siamese_change_detector import SiameseChangeDetector
from .unet_change_head import UNetChangeHead

__all__ = ['BaseChangeHead', 'BITHead', 'SiameseChangeDetector', 'UNetChangeHead']
