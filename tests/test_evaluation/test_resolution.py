"""set_eval_resolution: the metric and the test pipeline agree."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.evaluation import reorder_pipeline, set_eval_resolution
from mmrrsis.registry import DATASETS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def types(pipeline):
    return [step['type'] for step in pipeline]


def test_reorder_pipeline():
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(8, 8)),
        dict(type='LoadReferringAnnotations'),
        dict(type='PackRRSISInputs')
    ]
    network = reorder_pipeline(pipeline, 'network')
    assert types(network) == [
        'LoadImageFromFile', 'LoadReferringAnnotations', 'Resize',
        'AdoptNetworkSize', 'PackRRSISInputs'
    ]
    assert types(reorder_pipeline(network, 'network')) == types(network)
    assert types(reorder_pipeline(network, 'original')) == types(pipeline)
    assert types(pipeline)[1] == 'Resize'  # the input is not modified
    with pytest.raises(ValueError, match='resolution'):
        reorder_pipeline(pipeline, 'both')


@pytest.mark.parametrize('resolution,gt_size', [('original', 96),
                                                ('network', 64)])
def test_ground_truth_size_follows_the_resolution(tmp_path, resolution,
                                                  gt_size):
    # 96x96 images, resized to 64x64 by the tiny config
    make_synthetic_refsegrs(str(tmp_path), num_images=2, size=96, seed=0)
    cfg = Config.fromfile(LAVT_TINY)
    set_eval_resolution(cfg, resolution)
    assert cfg.test_evaluator['resolution'] == resolution
    assert cfg.val_evaluator['resolution'] == resolution
    init_default_scope('mmrrsis')
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = str(tmp_path)
    dataset_cfg.ann_file = 'output_phrase_train.txt'
    sample = DATASETS.build(dataset_cfg)[0]
    assert tuple(sample['inputs'].shape[1:]) == (64, 64)
    assert tuple(sample['data_samples'].gt_sem_seg.shape) == (gt_size,
                                                              gt_size)
    # at the network resolution the resized image is the original: the
    # logits are arg-maxed where the network made them
    assert sample['data_samples'].ori_shape == (gt_size, gt_size)
