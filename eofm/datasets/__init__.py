"""Datasets, samplers and transforms for multi-modal EO data."""
from .synthetic import SyntheticClassificationDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['SyntheticClassificationDataset']
