"""The headline configs need the real data: without it, training stops at
once (before the model — and its pretrained BERT and Swin — is built)."""
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('config', ['lgce_swin-b.py', 'lavt_swin-b.py'])
def test_missing_refsegrs_stops_with_directions(tmp_path, config):
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'),
            osp.join(REPO, 'configs', config), '--work-dir',
            str(tmp_path / 'work')
        ],
        cwd=tmp_path,  # no data/ folder here
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode != 0
    err = proc.stderr
    # where the data is expected, how to get it, what runs without it
    assert str(tmp_path / 'data' / 'RefSegRS') in err
    assert 'output_phrase_{train,val,test}.txt' in err
    assert 'configs/lgce_synthetic.py' in err
    # ours, not a traceback from building BERT/Swin or reading files
    assert 'Traceback' not in err
    assert err.strip().splitlines()[0].startswith('error: ')
