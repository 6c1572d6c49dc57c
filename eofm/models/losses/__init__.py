"""Losses of the self-supervised algorithms."""
from .cross_modal_alignment import CrossModalAlignmentLoss
from .dino_loss import DINOLoss

__all__ = ['CrossModalAlignmentLoss', 'DINOLoss']
