"""Models: backbones, fusion modules, heads, losses, self-supervised algorithms and
data preprocessors."""
from .anysat import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .change_detection import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .image_to_image import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .msgfm import *  # noqa: F401,F403
from .omnisat import *  # noqa: F401,F403
from .selfsup import *  # noqa: F401,F403
