"""DiCoR's staged training end to end on the tiny configs: coarse (with
snapshots) -> prompt bank -> refiner -> guide -> joint -> test of the full
model, each stage loading the previous one's weights as its config says,
on a generated 64x64 RefSegRS-layout set."""
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine import Config
from mmengine.registry import init_default_scope

from mmrrsis.apis import build_prompt_bank, init_model
from mmrrsis.apis.prompt_bank import snapshot_files
from mmrrsis.compat import load_checkpoint_file
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.engine import build_runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs', 'tiny')


def stage_cfg(name: str, data_root: str, work_dir: str, **overrides):
    """A tiny stage config on ``data_root`` with 2 short epochs."""
    cfg = Config.fromfile(
        osp.join(TINY, f'{name}_swin-tiny_refsegrs-64x64.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[key].dataset
        while 'dataset' in dataset:
            dataset = dataset.dataset
        dataset.data_root = data_root
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 50
    cfg.default_hooks.checkpoint.interval = 1
    cfg.merge_from_dict(overrides)
    return cfg


def train(cfg):
    runner = build_runner(cfg)
    runner.train()
    return runner


def test_dicor_stages_run_in_order(tmp_path):
    torch.set_num_threads(1)
    init_default_scope('mmrrsis')
    data = str(tmp_path / 'data')
    make_synthetic_refsegrs(
        data, num_images=6, size=64, seed=5, show_progress=False)
    work = {s: str(tmp_path / s) for s in ('coarse', 'refiner', 'guide',
                                          'joint')}

    # 1. coarse, with snapshots after epochs 1 and 2 and best.pth
    train(stage_cfg('dicor-coarse', data, work['coarse']))
    assert osp.isfile(osp.join(work['coarse'], 'snapshot_epoch_1.pth'))
    assert osp.islink(osp.join(work['coarse'], 'best.pth'))
    snapshot = load_checkpoint_file(
        osp.join(work['coarse'], 'snapshot_epoch_2.pth'))
    assert 'optimizer' not in snapshot

    # 2. the bank, resumable: a second run skips what is complete
    coarse_cfg = stage_cfg('dicor-coarse', data, work['coarse'])
    snapshots = snapshot_files(coarse_cfg, work['coarse'])
    assert sorted(snapshots) == [1, 2]
    bank = osp.join(work['coarse'], 'prompt_bank')
    manifest = build_prompt_bank(
        coarse_cfg, snapshots, bank, batch_size=4, device='cpu',
        log=lambda m: None)
    num = manifest['sample_count']
    assert (manifest['height'], manifest['width']) == (16, 16)
    assert [s['epoch'] for s in manifest['snapshots']] == [1, 2]
    maps = np.memmap(
        osp.join(bank, 'ep2.mmap'), dtype=np.uint8, mode='r',
        shape=(num, 16, 16))
    assert maps.max() > 0
    messages = []
    build_prompt_bank(
        coarse_cfg, snapshots, bank, batch_size=4, device='cpu',
        log=messages.append)
    assert all('skipped' in m for m in messages) and len(messages) == 2
    with open(osp.join(bank, 'manifest.json')) as f:
        assert json.load(f)['sample_count'] == num

    # 3. refiner, offline from the bank; only the refiner changes
    coarse_state = load_checkpoint_file(osp.join(work['coarse'],
                                                 'best.pth'))['state_dict']
    runner = train(
        stage_cfg(
            'dicor-refiner', data, work['refiner'],
            load_from=osp.join(work['coarse'], 'best.pth'),
            **{'train_dataloader.dataset.bank_dir': bank}))
    state = runner.model.state_dict()
    assert torch.equal(state['neck.reduce.weight'].cpu(),
                       coarse_state['neck.reduce.weight'])
    assert state['refiner.out_conv.weight'].abs().sum() > 0

    # 4. guide on the frozen coarse model
    runner = train(
        stage_cfg(
            'dicor-guide', data, work['guide'],
            load_from=osp.join(work['coarse'], 'best.pth'),
            **{'train_dataloader.dataset.bank_dir': bank}))
    state = runner.model.state_dict()
    assert torch.equal(
        state['backbone.stages.0.blocks.0.attn.w_msa.qkv.weight'].cpu(),
        coarse_state['backbone.stages.0.blocks.0.attn.w_msa.qkv.weight'])
    guide_last = osp.join(work['guide'], 'epoch_2.pth')
    assert osp.isfile(guide_last)

    # 5. joint: LVMSF from the guide stage (its self-attention blocks carried
    # over), the refiner from its stage
    refiner_best = osp.join(work['refiner'], 'best.pth')
    runner = train(
        stage_cfg(
            'dicor-joint', data, work['joint'], load_from=guide_last,
            **{'model.refiner.init_cfg.checkpoint': refiner_best}))
    state = runner.model.state_dict()
    refiner_state = load_checkpoint_file(refiner_best)['state_dict']
    assert torch.equal(state['refiner.out_conv.weight'].cpu(),
                       refiner_state['refiner.out_conv.weight'])
    guide_state = load_checkpoint_file(guide_last)['state_dict']
    assert torch.equal(
        state['localization_guide.ranker.visual_embed.0.weight'].cpu(),
        guide_state['localization_guide.ranker.visual_embed.0.weight'])
    assert torch.equal(state['backbone.norm2.weight'].cpu(),
                       coarse_state['backbone.norm2.weight'])

    # 6. the full model (refined) tests from the joint stage's best
    full_cfg = stage_cfg('dicor', data, str(tmp_path / 'test'))
    full_cfg.load_from = osp.join(work['joint'], 'best.pth')
    metrics = build_runner(full_cfg).test()
    assert 0 <= metrics['oIoU'] <= 100
    model = init_model(
        full_cfg, osp.join(work['joint'], 'best.pth'), device='cpu')
    assert model.test_cfg.refine and model.refiner is not None
    os.remove(osp.join(work['coarse'], 'snapshot_epoch_1.pth'))
