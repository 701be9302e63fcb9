"""tools/analysis_tools/language_ablation.py: true vs shuffled expressions
from one checkpoint."""
import json
import os
import os.path as osp
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def test_prints_and_writes_both_metric_sets(tmp_path):
    root = str(tmp_path / 'data')
    make_synthetic_refsegrs(root, 4, size=64, seed=2, show_progress=False)
    init_default_scope('mmrrsis')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    out = str(tmp_path / 'ablation.json')
    options = [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools/analysis_tools/language_ablation.py'),
            CONFIG, ckpt, '--split', 'val', '--work-dir',
            str(tmp_path / 'work'), '--out', out, '--cfg-options', *options
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    header = [line for line in proc.stdout.splitlines()
              if line.startswith('metric')]
    assert header and header[0].split() == [
        'metric', 'true', 'shuffled', 'drop'
    ]
    with open(out) as f:
        results = json.load(f)
    assert set(results) == {'true', 'shuffled'}
    for part in results.values():
        assert {'oIoU', 'mIoU', 'Prec@0.5'} <= set(part)
    # the table's drop column is true - shuffled
    row = [line.split() for line in proc.stdout.splitlines()
           if line.startswith('mIoU ')][0]
    assert float(row[3]) == round(
        results['true']['mIoU'] - results['shuffled']['mIoU'], 2)
