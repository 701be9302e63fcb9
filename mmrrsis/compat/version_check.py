"""Check that the installed stack is in the supported ranges.

The ranges have one source, the requirement files that ``setup.py``
installs from: ``requirements/mminstall.txt`` (mmengine, mmsegmentation,
mmpretrain), ``requirements/mmcv.txt`` (full mmcv),
``requirements/mmcv_lite.txt`` (mmcv-lite) and ``requirements/runtime.txt``
(torch, torchvision, transformers). In a source checkout
(``pip install -e .``) they are read from ``requirements/``; in an
installed wheel from the package's metadata, which ``setup.py`` wrote from
the same files. A version outside its range is known,
or likely, to break, so importing mmrrsis fails early with a message that
names the package, what is installed and what is supported.
"""
import functools
import os.path as osp
from importlib import metadata
from typing import Dict, Optional

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

#: import name -> the distributions that provide it, in the order tried
DISTRIBUTIONS = {
    'mmengine': ('mmengine', 'mmengine-lite'),
    'mmcv': ('mmcv', 'mmcv-lite', 'mmcv-full'),
    'mmseg': ('mmsegmentation', ),
    'mmpretrain': ('mmpretrain', ),
    'torch': ('torch', ),
    'torchvision': ('torchvision', ),
    'transformers': ('transformers', ),
}

#: requirement files (``requirements/<name>``) that hold the ranges
RANGE_FILES = ('mminstall.txt', 'mmcv.txt', 'mmcv_lite.txt', 'runtime.txt')

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _source_requirements() -> Optional[list]:
    """Requirement lines of ``requirements/`` in a source checkout."""
    folder = osp.join(REPO_ROOT, 'requirements')
    if not (osp.isfile(osp.join(REPO_ROOT, 'setup.py'))
            and osp.isdir(folder)):
        return None
    lines = []
    for name in RANGE_FILES:
        path = osp.join(folder, name)
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.split('#', 1)[0].strip()
                if line and not line.startswith('-'):
                    lines.append(line)
    return lines


@functools.lru_cache(maxsize=1)
def supported_ranges() -> Dict[str, str]:
    """The supported version range of every checked distribution.

    Returns:
        dict: distribution name (e.g. ``'mmcv-lite'``) -> specifier as
        written in the requirement file (e.g. ``'>=2.0.0rc4,<2.2.0'``).
    """
    lines = _source_requirements()
    if lines is None:
        try:
            lines = metadata.requires('mmrrsis') or []
        except metadata.PackageNotFoundError:
            lines = []
    known = {d for dists in DISTRIBUTIONS.values() for d in dists}
    ranges = {}
    for line in lines:
        req = Requirement(line)
        if req.name.lower() in known and str(req.specifier):
            spec = line.split(';', 1)[0][len(req.name):].strip()
            ranges[req.name.lower()] = spec.replace(' ', '') or str(
                req.specifier)
    return ranges


def installed_distribution(package: str) -> Optional[str]:
    """The installed distribution that provides import name ``package``."""
    for dist in DISTRIBUTIONS.get(package, (package, )):
        try:
            metadata.version(dist)
            return dist
        except metadata.PackageNotFoundError:
            continue
    return None


def installed_version(package: str) -> Optional[str]:
    """Return the version of the package importable as ``package``.

    Args:
        package (str): Import name, one of ``DISTRIBUTIONS``.

    Returns:
        str | None: The version string, or None when it is not installed.
    """
    dist = installed_distribution(package)
    if dist is not None:  # the metadata: nothing is imported (mmpretrain
        return metadata.version(dist)  # alone takes 2 s)
    try:
        module = __import__(package)
    except Exception:  # not installed, or broken: None below
        module = None
    return getattr(module, '__version__', None)


def check_version(package: str, version: Optional[str],
                  specifier: str) -> None:
    """Raise when ``version`` of ``package`` does not satisfy ``specifier``.

    Args:
        package (str): Import name, used in the message.
        version (str | None): Installed version; None means not installed.
        specifier (str): The supported range, e.g. ``'>=1.2.0,<1.3.0'``
            (pre-releases inside it count as supported).

    Raises:
        ImportError: When the package is missing or out of range.
    """
    if version is None:
        raise ImportError(
            f'mmrrsis needs {package} {specifier}, but {package} is not '
            'installed. See the README ("Get started") for the install '
            'command.')
    if not SpecifierSet(specifier).contains(version, prereleases=True):
        raise ImportError(
            f'mmrrsis supports {package} {specifier}, but {package} '
            f'{version} is installed. Install a supported version, e.g. '
            'with the command in the README ("Get started").')


def check_dependencies() -> None:
    """Check every package of ``DISTRIBUTIONS`` against its range from the
    requirement files; raise on the first bad one."""
    ranges = supported_ranges()
    for package, dists in DISTRIBUTIONS.items():
        dist = installed_distribution(package)
        specifier = ranges.get(dist) if dist else None
        if specifier is None:  # not installed, or a flavour without range
            specifier = next((ranges[d] for d in dists if d in ranges),
                             None)
        if specifier is None:
            continue  # no range written down: nothing to check against
        check_version(package, installed_version(package), specifier)
