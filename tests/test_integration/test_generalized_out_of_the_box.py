"""The out-of-the-box generalized config trains with its no-target branch
and reports the GRES metrics (a few generated images, one epoch)."""
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'synthetic',
                  'lavt-nt_swin-mini_1xb8-10e_synthetic-grefcoco-128x128.py')


def test_trains_and_reports_n_acc_t_acc(tmp_path):
    data = str(tmp_path / 'data')
    options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               'default_hooks.visualization.draw=False']
    for loader in ('train', 'val', 'test'):
        options += [f'{loader}_dataloader.dataset.data_root={data}',
                    f'{loader}_dataloader.dataset.num_images=6',
                    f'{loader}_dataloader.dataset.size=64']
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *options],
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # generated on first use, in gRefCOCO's schema
    assert osp.isfile(osp.join(data, 'grefcoco', 'grefs(unc).json'))
    [scalars] = [osp.join(d, f) for d, _, files in os.walk(tmp_path / 'work')
                 for f in files if f == 'scalars.json']
    records = [json.loads(line) for line in open(scalars)]
    train = [r for r in records if 'no_target.loss_no_target' in r]
    assert train, 'the no-target branch was not trained'
    [val] = [r for r in records if 'N-acc' in r]
    for key in ('gIoU', 'cIoU', 'N-acc', 'T-acc', 'nt_TP', 'nt_TN'):
        assert key in val
    assert val['nt_TP'] + val['nt_FN'] > 0  # the val split has no-target
    assert 0 <= val['N-acc'] <= 100 and 0 <= val['T-acc'] <= 100
