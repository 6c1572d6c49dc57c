"""Training machinery: hooks, model wrappers, optimizer constructors."""
from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
