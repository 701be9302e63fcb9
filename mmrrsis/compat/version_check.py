"""Check that the installed OpenMMLab packages are in the supported ranges.

mmrrsis is tested against one set of versions (see ``requirements/``); a
version outside the ranges below is known, or likely, to break, so importing
mmrrsis fails early with a message that names the package, what is installed
and what is supported.
"""
from importlib import metadata
from typing import Optional

from mmengine.utils import digit_version

#: package import name -> (minimum inclusive, maximum exclusive)
SUPPORTED_RANGES = {
    'mmengine': ('0.10.0', '1.0.0'),
    'mmcv': ('2.0.0rc4', '2.2.0'),
    'mmseg': ('1.2.0', '1.3.0'),
}

#: distributions that provide each import name, in the order they are tried
DISTRIBUTIONS = {
    'mmengine': ('mmengine', 'mmengine-lite'),
    'mmcv': ('mmcv', 'mmcv-lite', 'mmcv-full'),
    'mmseg': ('mmsegmentation', ),
}


def installed_version(package: str) -> Optional[str]:
    """Return the version of the package importable as ``package``.

    Args:
        package (str): Import name, one of ``SUPPORTED_RANGES``.

    Returns:
        str | None: The version string, or None when it is not installed.
    """
    try:
        module = __import__(package)
    except Exception:  # a broken install is reported by version below
        module = None
    if module is not None and hasattr(module, '__version__'):
        return module.__version__
    for dist in DISTRIBUTIONS.get(package, (package, )):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_version(package: str,
                  version: Optional[str],
                  minimum: str,
                  maximum: str) -> None:
    """Raise when ``version`` of ``package`` is not in ``[minimum, maximum)``.

    Args:
        package (str): Import name, used in the message.
        version (str | None): Installed version; None means not installed.
        minimum (str): Lowest supported version (inclusive).
        maximum (str): First unsupported version (exclusive).

    Raises:
        ImportError: When the package is missing or out of range.
    """
    wanted = f'>={minimum}, <{maximum}'
    if version is None:
        raise ImportError(
            f'mmrrsis needs {package} {wanted}, but {package} is not '
            'installed. See the README ("Get started") for the install '
            'command.')
    if not (digit_version(minimum) <= digit_version(version) <
            digit_version(maximum)):
        raise ImportError(
            f'mmrrsis supports {package} {wanted}, but {package} '
            f'{version} is installed. Install a supported version, e.g. '
            'with the command in the README ("Get started").')


def check_dependencies() -> None:
    """Check every package of ``SUPPORTED_RANGES``; raise on the first bad
    one."""
    for package, (minimum, maximum) in SUPPORTED_RANGES.items():
        check_version(package, installed_version(package), minimum, maximum)
