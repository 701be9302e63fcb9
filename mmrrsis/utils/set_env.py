"""Register mmrrsis' modules and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Make mmrrsis' and mmseg's modules buildable from configs.

    mmrrsis' registries list their packages in ``locations``
    (:mod:`mmrrsis.registry`), which mmengine imports the first time a
    registry is searched, so nothing of mmrrsis is imported here; mmseg's
    modules are registered with its own function.

    Args:
        init_default_scope (bool): Also make ``mmrrsis`` the default scope,
            so plain type names resolve in mmrrsis' registries first (and
            then in mmseg's and mmengine's). Defaults to True.
    """
    from mmseg.utils import register_all_modules as register_mmseg

    register_mmseg(init_default_scope=False)

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmrrsis'):
        DefaultScope.get_instance('mmrrsis', scope_name='mmrrsis')
        return
    if current.scope_name != 'mmrrsis':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmrrsis"; register_all_modules switches it to '
                      '"mmrrsis". Pass init_default_scope=False to keep it.')
        DefaultScope.get_instance(
            f'mmrrsis-{datetime.datetime.now()}', scope_name='mmrrsis')
