"""Backbones: SkySense's encoders and the SkySense backbone."""
from .simple_convnet import SimpleConvNet
from .skysense import SkySense
from .skysense_swin import SkySenseSwinV2
from .skysense_vit import SkySenseViT

__all__ = ['SimpleConvNet', 'SkySense', 'SkySenseSwinV2', 'SkySenseViT']
