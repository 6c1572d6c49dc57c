"""Datasets, samplers and transforms for multi-modal EO data."""
from .synthetic import SyntheticClassificationDataset

__all__ = ['SyntheticClassificationDataset']
