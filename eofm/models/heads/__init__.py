"""Heads: projection heads of the self-supervised algorithms."""
from .dino_projection_head import DINOProjectionHead

__all__ = ['DINOProjectionHead']
