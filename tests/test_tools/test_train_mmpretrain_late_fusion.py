"""Late fusion on an mmpretrain backbone, trained by tools/train.py.

``configs/mix/fusion-late_convnext-atto_refsegrs-64x64.py`` names
``mmpretrain.ConvNeXt``: the backbone is built under mmpretrain's scope
(its ``LN2d`` norms exist only in mmpretrain's registry) inside an
mmrrsis model, and one tiny epoch trains and evaluates on a generated
RefSegRS folder.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import torch
from mmengine import Config

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'mix',
                  'fusion-late_convnext-atto_refsegrs-64x64.py')


def test_builds_under_mmpretrain_scope():
    from mmengine.registry import DefaultScope
    from mmpretrain.models.backbones import ConvNeXt

    from mmrrsis.models.utils import takes_text
    from mmrrsis.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model.backbone) is ConvNeXt
    assert not takes_text(model.backbone) and takes_text(model.neck)
    # the channels-first LayerNorm that only mmpretrain registers
    assert type(model.backbone.norm0).__module__.startswith('mmpretrain.')


def test_one_tiny_epoch_with_tools_train(tmp_path):
    root = str(tmp_path / 'refsegrs')
    make_synthetic_refsegrs(
        root, num_images=4, size=64, seed=1, show_progress=False)
    work_dir = str(tmp_path / 'work')
    options = [f'{loader}.dataset.data_root={root}'
               for loader in ('train_dataloader', 'val_dataloader',
                              'test_dataloader')]
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
         '--cfg-options', 'train_cfg.max_epochs=1', 'randomness.seed=0',
         *options],
        cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ckpt = torch.load(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)
    keys = ckpt['state_dict']
    assert 'backbone.downsample_layers.0.0.weight' in keys
    assert any(k.startswith('neck.') for k in keys)
    records = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    losses = [r['loss'] for r in records if 'loss' in r]
    assert losses and all(loss == loss and loss > 0 for loss in losses)
    assert any('oIoU' in r for r in records)  # evaluated after the epoch
