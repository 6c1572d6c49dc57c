"""Image-to-image models: dense regression of a target image (cloud removal,
pan-sharpening) from the feature pyramid of a backbone."""
from .head import PixelRegressionHead
from .model import ImageToImageModel

__all__ = ['ImageToImageModel', 'PixelRegressionHead']
