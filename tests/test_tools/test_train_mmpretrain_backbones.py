"""mmpretrain backbones in mmrrsis models, through tools/train.py and
tools/test.py on a generated RefSegRS folder.

- ``configs/mix/fusion-late_convnext-atto_refsegrs-64x64.py`` names
  ``mmpretrain.ConvNeXt`` as the backbone: it is built under mmpretrain's
  scope (its ``LN2d`` norms exist only in mmpretrain's registry) inside an
  mmrrsis model (late fusion);
- ``configs/tiny/lavt_convnext-tiny_refsegrs-64x64.py``, the tiny twin of
  LAVT on ConvNeXt-B (early fusion through ``LanguageAwareBackbone``).

Each trains one tiny epoch and evaluates; the LAVT twin's checkpoint is
then tested with tools/test.py.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine import Config

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LATE = osp.join(ROOT, 'configs', 'mix',
                'fusion-late_convnext-atto_refsegrs-64x64.py')
LAVT = osp.join(ROOT, 'configs', 'tiny',
                'lavt_convnext-tiny_refsegrs-64x64.py')


def run(args):
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def records(work_dir, name='scalars.json'):
    found = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data', name)):
        with open(path) as f:
            found += [json.loads(line) for line in f if line.strip()]
    return found


@pytest.fixture(scope='module')
def options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(
        root, num_images=4, size=64, seed=1, show_progress=False)
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')] + ['randomness.seed=0']


def test_late_fusion_builds_under_mmpretrain_scope():
    from mmengine.registry import DefaultScope
    from mmpretrain.models.backbones import ConvNeXt

    from mmrrsis.models.utils import takes_text
    from mmrrsis.registry import MODELS
    cfg = Config.fromfile(LATE)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert type(model.backbone) is ConvNeXt
    assert not takes_text(model.backbone) and takes_text(model.neck)
    # the channels-first LayerNorm that only mmpretrain registers
    assert type(model.backbone.norm0).__module__.startswith('mmpretrain.')


@pytest.mark.parametrize('config,key', [
    (LATE, 'backbone.downsample_layers.0.0.weight'),
    (LAVT, 'backbone.encoder.downsample_layers.0.0.weight'),
])
def test_one_tiny_epoch_with_tools_train(config, key, options, tmp_path):
    work_dir = str(tmp_path / 'work')
    run(['tools/train.py', config, '--work-dir', work_dir, '--cfg-options',
         'train_cfg.max_epochs=1', *options])
    ckpt = torch.load(
        osp.join(work_dir, 'epoch_1.pth'), map_location='cpu',
        weights_only=False)
    assert key in ckpt['state_dict']
    logged = records(work_dir)
    losses = [r['loss'] for r in logged if 'loss' in r]
    assert losses and all(loss == loss and loss > 0 for loss in losses)
    assert any('oIoU' in r for r in logged)  # evaluated after the epoch
    if config != LAVT:
        return
    test_dir = str(tmp_path / 'test')
    run(['tools/test.py', config, osp.join(work_dir, 'epoch_1.pth'),
         '--work-dir', test_dir, '--cfg-options', *options])
    found = [p for p in glob.glob(osp.join(test_dir, '*', '*.json'))
             if not p.endswith('scalars.json')]
    with open(found[0]) as f:
        metrics = json.load(f)
    assert 0 <= metrics['oIoU'] <= 100 and 'Prec@0.5' in metrics
