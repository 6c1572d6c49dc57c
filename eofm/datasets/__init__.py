"""Datasets, samplers and transforms for multi-modal EO data."""
from .collate import multimodal_collate
from .multimodal_dataset import MultiModalDataset
from .synthetic import SyntheticClassificationDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['MultiModalDataset', 'SyntheticClassificationDataset', 'multimodal_collate']
