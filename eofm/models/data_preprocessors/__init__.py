from .multimodal import MultiModalDataPreprocessor

__all__ = ['MultiModalDataPreprocessor']
