"""eofm: multi-modal Earth-observation foundation models for the OpenMMLab stack.

Importing ``eofm`` applies the stack's compatibility fixes (:mod:`eofm.utils.compat`)
and registers every eofm module in the ``eofm`` child registries, so a config needs only
``custom_imports = dict(imports=['eofm'], allow_failed_imports=False)`` and
``type='eofm.X'``.
"""
from .utils import compat as _compat

_compat.apply()

from .version import __version__  # noqa: E402
from .utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

__all__ = ['__version__', 'register_all_modules']
