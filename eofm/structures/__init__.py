"""Data structures shared by eofm's datasets and models."""
from .multimodal_data_sample import MultiModalDataSample

__all__ = ['MultiModalDataSample']
