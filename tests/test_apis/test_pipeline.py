"""The inference pipeline: an expression alone through the text steps, an
image alone through the image steps, what the config says without
building its pipeline twice."""
import os.path as osp

import numpy as np
from mmengine.config import Config

from mmrrsis.apis import InferencePipeline
from mmrrsis.apis.pipeline import config_scaling, resize_scale

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def test_text_alone_and_image_alone():
    pipeline = InferencePipeline(Config.fromfile(LAVT_TINY))
    assert pipeline.clean_text('  a\u200b  red\tcar ') == 'a red car'
    image = np.zeros((32, 48, 3), np.uint8)
    packed = pipeline.pack_image(image)
    assert tuple(packed['inputs'].shape) == (3, 64, 64)  # resized
    assert packed['data_samples'].metainfo['text'] is None
    both = pipeline((image, ' a car '))
    assert both['data_samples'].metainfo['text'] == 'a car'
    kept = InferencePipeline(Config.fromfile(LAVT_TINY), keep_size=True)
    assert tuple(kept.pack_image(image)['inputs'].shape) == (3, 32, 48)


def test_config_scaling_and_resize_scale():
    cfg = Config.fromfile(LAVT_TINY)
    assert config_scaling(cfg).is_identity
    assert resize_scale(cfg) == (64, 64)
    cfg.test_dataloader.dataset.pipeline[0].update(
        bands=(3, 2, 1), scale='percentile')
    cfg.test_dataloader.dataset.pipeline[1].scale = (96, 48)  # (w, h)
    scaling = config_scaling(cfg)
    assert scaling.bands == (3, 2, 1) and scaling.scale == 'percentile'
    assert resize_scale(cfg) == (48, 96)
    del cfg.test_dataloader.dataset.pipeline[1]
    assert resize_scale(cfg) is None
