"""Install mmrrsis: ``pip install -e .`` (see README, "Get started")."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    scope = {}
    with open(osp.join(HERE, 'mmrrsis', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(name: str) -> list:
    """Read ``requirements/<name>.txt``, skipping comments and ``-r``."""
    reqs = []
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='mmrrsis',
    version=get_version(),
    description='Referring remote sensing image segmentation (LAVT, LGCE) '
    'for OpenMMLab',
    long_description=long_description,
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
    include_package_data=True,
    # mmcv is deliberately not listed: mmcv-lite and full mmcv install the
    # same `mmcv` package, and `import mmrrsis` checks that one is present
    # and in the range of its requirement file (one source for the ranges:
    # requirements/*.txt, read here and by mmrrsis/compat/version_check.py).
    install_requires=parse_requirements('runtime') +
    parse_requirements('mminstall'),
    extras_require=dict(
        lite=parse_requirements('mmcv_lite'),
        mmcv=parse_requirements('mmcv'),
        tests=parse_requirements('tests') + parse_requirements('nltk'),
        geo=parse_requirements('geo'),
        app=parse_requirements('app'),
        optional=parse_requirements('optional'),
        deepspeed=parse_requirements('deepspeed'),
        nltk=parse_requirements('nltk'),
    ),
    license='Apache License 2.0',
    zip_safe=False)
