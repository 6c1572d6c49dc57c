"""Models: backbones, necks, layers, heads, losses and self-supervised algorithms."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
