import subprocess
import sys
from pathlib import Path

import mmcv
import mmengine
import mmseg
import torch
import transformers

import mmrrsis
from mmrrsis.compat import has_compiled_ops
from mmrrsis.utils import collect_env

ROOT = Path(__file__).parents[2]


def test_collect_env_versions():
    env = collect_env()
    assert env['PyTorch'] == torch.__version__
    assert env['MMEngine'] == mmengine.__version__
    assert env['MMCV'] == mmcv.__version__
    assert env['MMSegmentation'] == mmseg.__version__
    assert env['Transformers'] == transformers.__version__
    assert env['MMCV flavour'] == ('full' if has_compiled_ops() else 'lite')
    assert env['mmrrsis'].startswith(mmrrsis.__version__)


def test_collect_env_tool_prints():
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools/misc/collect_env.py')],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f'MMSegmentation: {mmseg.__version__}' in proc.stdout
    assert 'MMCV flavour: ' in proc.stdout
