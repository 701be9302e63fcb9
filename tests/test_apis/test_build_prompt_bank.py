"""build_prompt_bank: DiCoR's bank from coarse snapshots, with the IoU
filter, continued after an interruption, refusing mixed settings."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.apis import PromptBankBuildError, build_prompt_bank
from mmrrsis.apis.prompt_bank import snapshot_files
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COARSE = osp.join(REPO, 'configs', 'tiny',
                  'dicor-coarse_swin-tiny_refsegrs-64x64.py')


@pytest.fixture(scope='module')
def setup(refsegrs_root, tmp_path_factory):
    """The tiny coarse config on the generated set, and two 'snapshots'
    (randomly initialised models of different seeds)."""
    torch.set_num_threads(1)
    root = refsegrs_root  # tests/test_apis/conftest.py: 3 images
    folder = tmp_path_factory.mktemp('coarse')
    cfg = Config.fromfile(COARSE)
    cfg.train_dataloader.dataset.data_root = root
    snapshots = {}
    for epoch in (1, 2):
        torch.manual_seed(epoch)
        with DefaultScope.overwrite_default_scope('mmrrsis'):
            model = MODELS.build(cfg.model)
        path = str(folder / f'snapshot_epoch_{epoch}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}), path)
        snapshots[epoch] = path
    return cfg, snapshots, folder


def read(folder, epoch, shape):
    return np.array(np.memmap(osp.join(folder, f'ep{epoch}.mmap'),
                              dtype=np.uint8, mode='r', shape=shape))


def test_snapshot_files_from_the_config(setup):
    cfg, _, folder = setup
    files = snapshot_files(cfg, str(folder))
    assert files == {e: osp.join(str(folder), f'snapshot_epoch_{e}.pth')
                     for e in (1, 2)}
    assert snapshot_files(cfg, 'w', epochs=[7]) == {
        7: osp.join('w', 'snapshot_epoch_7.pth')}


def test_bank_iou_filter_and_resume(setup, tmp_path):
    cfg, snapshots, _ = setup
    full = str(tmp_path / 'full')
    manifest = build_prompt_bank(cfg, snapshots, full, batch_size=3,
                                 log=lambda m: None)
    num = manifest['sample_count']
    shape = (num, 16, 16)
    first = read(full, 1, shape)
    assert first.any() and all(s['kept'] == num
                               for s in manifest['snapshots'])
    # an IoU window nothing reaches leaves every map zero; a separate bank
    filtered = str(tmp_path / 'filtered')
    manifest = build_prompt_bank(cfg, {1: snapshots[1]}, filtered,
                                 iou_range=(0.999, 1.0), log=lambda m: None)
    assert manifest['iou_range'] == [0.999, 1.0]
    assert manifest['snapshots'][0]['kept'] == 0
    assert not read(filtered, 1, shape).any()
    with pytest.raises(PromptBankBuildError, match='iou_range'):
        build_prompt_bank(cfg, snapshots, filtered, log=lambda m: None)

    # interrupted during epoch 2 after 4 rows: continues from row 4
    part = str(tmp_path / 'part')
    shutil.copytree(full, part)
    os.replace(osp.join(part, 'ep2.mmap'), osp.join(part, 'ep2.mmap.partial'))
    maps = np.memmap(osp.join(part, 'ep2.mmap.partial'), dtype=np.uint8,
                     mode='r+', shape=shape)
    maps[4:] = 0
    maps.flush()
    with open(osp.join(part, 'manifest.json')) as f:
        manifest = json.load(f)
    record = manifest['snapshots'][1]['checkpoint']
    manifest['snapshots'] = manifest['snapshots'][:1]
    with open(osp.join(part, 'manifest.json'), 'w') as f:
        json.dump(manifest, f)
    with open(osp.join(part, 'ep2.progress.json'), 'w') as f:
        json.dump(dict(rows=4, kept=4, height=16, width=16,
                       checkpoint=record), f)
    said = []
    build_prompt_bank(cfg, snapshots, part, batch_size=3, log=said.append)
    assert 'skipped' in said[0] and 'continuing' in said[1]
    np.testing.assert_array_equal(read(part, 2, shape), read(full, 2, shape))
    assert not osp.exists(osp.join(part, 'ep2.progress.json'))
    assert not osp.exists(osp.join(part, 'ep2.mmap.partial'))

    # another checkpoint for a built epoch is refused, --restart rebuilds
    other = {1: snapshots[2], 2: snapshots[2]}
    with pytest.raises(PromptBankBuildError, match='restart'):
        build_prompt_bank(cfg, other, part, log=lambda m: None)
    build_prompt_bank(cfg, other, part, restart=True, log=lambda m: None)
    np.testing.assert_array_equal(read(part, 1, shape), read(full, 2, shape))


def test_refusals(setup, tmp_path):
    cfg, snapshots, _ = setup
    with pytest.raises(PromptBankBuildError, match='not found'):
        build_prompt_bank(cfg, {3: str(tmp_path / 'x.pth')},
                          str(tmp_path / 'b'), log=lambda m: None)
    random_cfg = cfg.copy()
    random_cfg.train_dataloader.dataset.pipeline = [
        dict(type='LoadRSImageFromFile'),
        dict(type='RandomFlip', prob=0.5)
    ]
    with pytest.raises(PromptBankBuildError, match='random step RandomFlip'):
        build_prompt_bank(random_cfg, snapshots, str(tmp_path / 'c'),
                          log=lambda m: None)
    with pytest.raises(PromptBankBuildError, match='iou_range'):
        build_prompt_bank(cfg, snapshots, str(tmp_path / 'd'),
                          iou_range=(0.9, 0.5))
