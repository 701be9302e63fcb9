"""tools/train.py and tools/test.py on the RRSIS-D copy with its size quirk
(801x800 and 800x801 JPEGs with 800x800 masks), and one test run over
RefCOCO's val, testA and testB.

Trains ``configs/tiny/lavt_swin-tiny_rrsisd-64x64.py`` for one epoch; the
runs must exit 0, say (once per dataset) that images are resampled to their
masks' grid, and score every prediction on its mask's grid.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'tiny', 'lavt_swin-tiny_rrsisd-64x64.py')


def _run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _roots(root):
    return [f'{s}_dataloader.dataset.data_root={root}'
            for s in ('train', 'val', 'test')]


def _test_metrics(work_dir):
    found = [p for p in glob.glob(osp.join(work_dir, '*', '*.json'))
             if not p.endswith('scalars.json')]
    assert len(found) == 1, found
    return json.load(open(found[0]))


@pytest.fixture(scope='module')
def trained(tmp_path_factory, rrsisd_copy):
    root, expected = rrsisd_copy
    work_dir = str(tmp_path_factory.mktemp('train_rrsisd'))
    proc = _run('tools/train.py', CONFIG, '--work-dir', work_dir,
                '--cfg-options', 'randomness.seed=0', *_roots(root))
    return dict(root=root, expected=expected, work_dir=work_dir, proc=proc,
                ckpt=osp.join(work_dir, 'epoch_1.pth'))


def test_train_one_epoch_with_the_size_quirk(trained):
    err = trained['proc'].stderr
    # the training split holds one mismatched sample (ref 1, 00001.jpg)
    assert err.count('have an image whose size differs') == 1, err[-3000:]
    assert "00001.jpg is 801x800 (h x w), its mask 800x800" in err
    assert osp.isfile(trained['ckpt'])
    scalars = glob.glob(osp.join(trained['work_dir'], '*', 'vis_data',
                                 'scalars.json'))
    records = [json.loads(line) for line in open(scalars[0])]
    assert any('loss' in r for r in records)
    assert any('oIoU' in r for r in records)  # validated after the epoch


def test_test_scores_on_the_mask_grid(trained, tmp_path):
    work_dir, preds = str(tmp_path / 'test'), str(tmp_path / 'preds')
    proc = _run('tools/test.py', CONFIG, trained['ckpt'], '--work-dir',
                work_dir, '--out', preds, '--cfg-options',
                *_roots(trained['root']))
    assert proc.stderr.count('have an image whose size differs') == 1
    assert '2 sample(s)' in proc.stderr  # ref 6's two sentences
    metrics = _test_metrics(work_dir)
    for key in ('oIoU', 'mIoU', 'Prec@0.5'):
        assert 0 <= metrics[key] <= 100
    # every prediction is written (and was scored) on its mask's grid
    refs = trained['expected']['refs']
    written = sorted(os.listdir(preds))
    assert len(written) == 4
    for name in written:
        ref_id = int(name.split('_')[1])  # <image>_<ref_id>_<sent_id>.png
        mask = cv2.imread(osp.join(preds, name), cv2.IMREAD_UNCHANGED)
        assert mask.shape == refs[ref_id]['mask'].shape
    assert {n.split('_')[0] for n in written} == {'00004', '00005'}


def test_refcoco_splits_in_one_test_run(trained, refcoco_copy, tmp_path):
    root, _ = refcoco_copy
    work_dir = str(tmp_path / 'refcoco')
    dataset = 'test_dataloader.dataset.'
    _run('tools/test.py', CONFIG, trained['ckpt'], '--work-dir', work_dir,
         '--cfg-options', *_roots(trained['root']),
         f'{dataset}type=ReferDataset',
         f'{dataset}data_root={root}',
         f'{dataset}ann_file=refcoco/refs(unc).p',
         f'{dataset}instances_file=refcoco/instances.json',
         f'{dataset}data_prefix.img_path=images/mscoco/images/train2014',
         f'{dataset}split=[val,testA,testB]')
    metrics = _test_metrics(work_dir)
    for split in ('val', 'testA', 'testB'):
        for key in ('oIoU', 'mIoU', 'Prec@0.9'):
            assert 0 <= metrics[f'{split}/{key}'] <= 100
    assert 'oIoU' not in metrics
