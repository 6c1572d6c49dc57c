"""Losses of the self-supervised algorithms."""
from .cross_modal_alignment import CrossModalAlignmentLoss
from .dino_loss import DINOLoss
from .mil_nce import MILNCELoss

__all__ = ['CrossModalAlignmentLoss', 'DINOLoss', 'MILNCELoss']
