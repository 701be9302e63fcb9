"""The import-time version check: ranges from requirements/, clear
messages naming package, version and range."""
import os.path as osp
import re

import pytest

from mmrrsis.compat import version_check as vc

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def read_specs(name):
    """``{distribution: specifier}`` of a requirement file, read here
    independently of the code under test."""
    specs = {}
    with open(osp.join(ROOT, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            match = re.match(r'([A-Za-z0-9_.-]+)\s*([<>=!~].*)', line)
            if match:
                specs[match.group(1).lower()] = match.group(2).replace(
                    ' ', '')
    return specs


def test_ranges_come_from_the_requirement_files():
    ranges = vc.supported_ranges()
    expected = {}
    for name in vc.RANGE_FILES:
        expected.update(read_specs(name))
    checked = {'mmengine', 'mmsegmentation', 'mmcv', 'mmcv-lite',
               'mmpretrain', 'torch', 'torchvision', 'transformers'}
    assert checked <= set(expected)
    assert {d for ds in vc.DISTRIBUTIONS.values() for d in ds} >= checked
    for dist in checked:
        assert ranges[dist] == expected[dist], dist
    # the stack of the README: torch capped at the newest tested release
    assert expected['torch'].endswith('<=2.14.1')
    assert expected['torchvision'].endswith('<=0.29.1')


def test_installed_versions_are_supported():
    ranges = vc.supported_ranges()
    for package in vc.DISTRIBUTIONS:
        dist = vc.installed_distribution(package)
        version = vc.installed_version(package)
        assert dist is not None and version is not None, package
        vc.check_version(package, version, ranges[dist])  # must not raise
    vc.check_dependencies()


@pytest.mark.parametrize('version', ['2.2.0', '1.7.1', '2.0.0rc3'])
def test_out_of_range_message(version):
    with pytest.raises(ImportError) as err:
        vc.check_version('mmcv', version, '>=2.0.0rc4,<2.2.0')
    msg = str(err.value)
    assert 'mmcv' in msg
    assert f'{version} is installed' in msg
    assert '>=2.0.0rc4,<2.2.0' in msg


def test_pre_release_inside_the_range_is_accepted():
    vc.check_version('mmcv', '2.0.0rc4', '>=2.0.0rc4,<2.2.0')
    vc.check_version('mmcv', '2.1.0', '>=2.0.0rc4,<2.2.0')


def test_missing_package_message():
    with pytest.raises(ImportError, match='mmseg .*not installed'):
        vc.check_version('mmseg', None, '>=1.2.0,<1.3.0')


def test_check_dependencies_reports_first_bad(monkeypatch):
    fake = {'mmengine': '0.10.7', 'mmcv': '2.2.0', 'mmseg': '1.2.2'}
    monkeypatch.setattr(vc, 'installed_version', fake.get)
    with pytest.raises(ImportError, match=r'mmcv 2\.2\.0 is installed'):
        vc.check_dependencies()


def test_installed_wheel_reads_the_package_metadata(monkeypatch):
    """Without a source checkout the ranges come from the metadata that
    setup.py wrote from the same files (extras carry markers)."""
    monkeypatch.setattr(vc, '_source_requirements', lambda: None)
    monkeypatch.setattr(
        vc.metadata, 'requires', lambda name: [
            'numpy', 'mmengine<1.0.0,>=0.10.0',
            'mmsegmentation<1.3.0,>=1.2.0',
            'mmcv-lite<2.2.0,>=2.0.0rc4; extra == "lite"', 'pytest; extra '
            '== "tests"'
        ])
    vc.supported_ranges.cache_clear()
    try:
        ranges = vc.supported_ranges()
    finally:
        vc.supported_ranges.cache_clear()
    assert ranges == {
        'mmengine': '<1.0.0,>=0.10.0',
        'mmsegmentation': '<1.3.0,>=1.2.0',
        'mmcv-lite': '<2.2.0,>=2.0.0rc4'
    }
