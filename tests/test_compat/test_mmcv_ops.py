"""mmcv-lite support: mmseg imports, compiled ops fail clearly; with a real
extension the patch does nothing.

Each case runs in a fresh interpreter so the state of ``sys.modules`` is
exactly what a user's process would have.
"""
import subprocess
import sys
import textwrap


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_missing_extension_is_stubbed_and_mmseg_imports():
    proc = run_python("""
        import importlib.util, sys
        # simulate mmcv-lite even where full mmcv is installed
        real_find_spec = importlib.util.find_spec
        importlib.util.find_spec = (
            lambda name, *a: None if name == 'mmcv._ext'
            else real_find_spec(name, *a))
        sys.modules.pop('mmcv._ext', None)
        import mmrrsis
        from mmrrsis.compat import is_patched, MissingMMCVOpsError
        assert is_patched()
        from mmseg.models import *  # noqa
        import torch
        from mmcv.ops import point_sample, sigmoid_focal_loss
        # a pure-Python op works
        feats = torch.arange(16.).view(1, 1, 4, 4)
        out = point_sample(feats, torch.full((1, 1, 2), 0.5),
                           align_corners=True)
        assert abs(out.item() - 7.5) < 1e-5, out
        # a compiled op fails with the clear message
        try:
            sigmoid_focal_loss(torch.rand(2, 3), torch.tensor([0, 1]),
                               2.0, 0.25)
        except MissingMMCVOpsError as e:
            print('MESSAGE:', e)
        else:
            raise SystemExit('compiled op did not fail')
        """)
    assert proc.returncode == 0, proc.stderr
    assert 'sigmoid_focal_loss' in proc.stdout
    assert 'full mmcv' in proc.stdout


def test_real_extension_is_left_alone():
    proc = run_python("""
        import sys, types
        real = types.ModuleType('mmcv._ext')
        real.marker = 'compiled'
        sys.modules['mmcv._ext'] = real
        import mmrrsis
        from mmrrsis.compat import has_compiled_ops, is_patched
        from mmrrsis.compat import patch_mmcv_ops
        assert has_compiled_ops()
        assert not is_patched()
        assert patch_mmcv_ops() is False
        assert sys.modules['mmcv._ext'] is real
        assert not hasattr(real, 'nms_forward')
        print('UNTOUCHED')
        """)
    assert proc.returncode == 0, proc.stderr
    assert 'UNTOUCHED' in proc.stdout


def test_patch_is_idempotent():
    from mmrrsis.compat import has_compiled_ops, patch_mmcv_ops
    if has_compiled_ops():  # full mmcv: nothing to patch
        assert patch_mmcv_ops() is False
    else:
        first = sys.modules['mmcv._ext']
        assert patch_mmcv_ops() is True
        assert sys.modules['mmcv._ext'] is first
