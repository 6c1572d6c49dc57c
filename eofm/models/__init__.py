"""Models: one package per model (``skysense``, ``msgfm``, ``omnisat``, ``anysat``),
the building blocks they share (``common``) and the task models and heads that serve
every encoder (``tasks``). See ``docs/architecture.md``."""
from .anysat import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .msgfm import *  # noqa: F401,F403
from .omnisat import *  # noqa: F401,F403
from .skysense import *  # noqa: F401,F403
from .tasks import *  # noqa: F401,F403
