from .simple_convnet import SimpleConvNet

__all__ = ['SimpleConvNet']
