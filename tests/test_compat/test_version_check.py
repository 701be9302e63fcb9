"""The import-time version check names package, version and range."""
import pytest

from mmrrsis.compat import version_check as vc


def test_installed_versions_are_supported():
    for package, (low, high) in vc.SUPPORTED_RANGES.items():
        version = vc.installed_version(package)
        assert version is not None, package
        vc.check_version(package, version, low, high)  # must not raise


@pytest.mark.parametrize('version', ['2.2.0', '1.7.1', '2.0.0rc3'])
def test_out_of_range_message(version):
    with pytest.raises(ImportError) as err:
        vc.check_version('mmcv', version, '2.0.0rc4', '2.2.0')
    msg = str(err.value)
    assert 'mmcv' in msg
    assert version in msg
    assert '>=2.0.0rc4, <2.2.0' in msg


def test_missing_package_message():
    with pytest.raises(ImportError, match='mmseg .*not installed'):
        vc.check_version('mmseg', None, '1.2.0', '1.3.0')


def test_check_dependencies_reports_first_bad(monkeypatch):
    fake = {'mmengine': '0.10.7', 'mmcv': '2.2.0', 'mmseg': '1.2.2'}
    monkeypatch.setattr(vc, 'installed_version', fake.get)
    with pytest.raises(ImportError, match=r'mmcv 2\.2\.0 is installed'):
        vc.check_dependencies()
