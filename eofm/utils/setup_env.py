"""Registration of eofm's modules into its registries."""
import datetime
import warnings

from mmengine import DefaultScope

__all__ = ['register_all_modules']

# Every package whose import registers modules; registries' ``locations`` name these too.
_MODULE_PACKAGES = ('eofm.datasets', 'eofm.engine', 'eofm.evaluation', 'eofm.models')


def register_all_modules(init_default_scope=True):
    """Import every eofm module so that it is in the ``eofm`` registries.

    Args:
        init_default_scope (bool): Also make ``eofm`` the current default scope (as
            ``mmpretrain.utils.register_all_modules`` does for its scope). Configs of a
            host task set their own ``default_scope`` and leave this False.
    """
    import importlib
    for pkg in _MODULE_PACKAGES:
        importlib.import_module(pkg)
    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('eofm')
    if never_created:
        DefaultScope.get_instance('eofm', scope_name='eofm')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'eofm':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "eofm", '
                      '`register_all_modules` will force the current '
                      'default scope to be "eofm". If this is not expected, '
                      'please set `init_default_scope=False`.')
        new_instance_name = f'eofm-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='eofm')
