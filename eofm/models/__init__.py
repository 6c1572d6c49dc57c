"""Models: backbones, fusion modules, data preprocessors (more as they land)."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
