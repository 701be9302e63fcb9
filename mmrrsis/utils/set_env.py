"""Register mmrrsis' modules and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmrrsis package so its modules are registered.

    Args:
        init_default_scope (bool): Also make ``mmrrsis`` the default scope,
            so plain type names resolve in mmrrsis' registries first (and
            then in mmseg's and mmengine's). Defaults to True.
    """
    from mmseg.utils import register_all_modules as register_mmseg

    register_mmseg(init_default_scope=False)
    import mmrrsis.apis  # noqa: F401
    import mmrrsis.datasets  # noqa: F401
    import mmrrsis.engine  # noqa: F401
    import mmrrsis.evaluation  # noqa: F401
    import mmrrsis.models  # noqa: F401
    import mmrrsis.visualization  # noqa: F401

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
