"""init_model, inference_model and RRSISInferencer on tiny configs."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmrrsis.apis import (
    CheckpointMismatchError,
    RRSISInferencer,
    inference_model,
    init_model,
    load_image,
    pair_inputs,
    set_slide_inference,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


@pytest.fixture(scope='module')
def model(lavt_tiny_ckpt):
    return init_model(LAVT_TINY, lavt_tiny_ckpt, device='cpu')


@pytest.fixture(scope='module')
def inferencer(lavt_tiny_ckpt):
    return RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu')


def image_of(root, idx=0):
    return osp.join(root, 'images', f'{idx}.tif')


# ------------------------------------------------------------ pairing rules
def test_pairing_rules(tmp_path):
    a, b = str(tmp_path / 'a.png'), str(tmp_path / 'b.png')
    for path in (a, b):
        cv2.imwrite(path, np.zeros((8, 8, 3), np.uint8))
    assert pair_inputs(a, ['x', 'y']) == [(a, 'x'), (a, 'y')]
    assert pair_inputs([a], 'x') == [(a, 'x')]
    assert pair_inputs([a, b], 'x') == [(a, 'x'), (b, 'x')]
    assert pair_inputs([a, b], ['x', 'y']) == [(a, 'x'), (b, 'y')]
    with pytest.raises(ValueError, match='2 images and 3 expressions'):
        pair_inputs([a, b], ['x', 'y', 'z'])
    with pytest.raises(ValueError, match='2 images and 1 expressions'):
        pair_inputs([a, b], ['x'])
    with pytest.raises(ValueError, match='Expression 1 is empty'):
        pair_inputs(a, ['the car', '  '])
    with pytest.raises(ValueError, match='empty'):
        pair_inputs(a, '')
    with pytest.raises(TypeError, match='not a str'):
        pair_inputs(a, [3])
    with pytest.raises(ValueError, match='texts='):
        pair_inputs(a, None)
    with pytest.raises(FileNotFoundError, match='nowhere.png'):
        pair_inputs([a, str(tmp_path / 'nowhere.png')], 'x')
    with pytest.raises(IsADirectoryError, match='is a directory, not an '
                       'image file'):
        pair_inputs([a, str(tmp_path)], 'x')


def test_unreadable_images(tmp_path):
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'this is not a PNG')
    with pytest.raises(ValueError, match='Cannot read the image'):
        load_image(str(broken))
    with pytest.raises(FileNotFoundError, match='gone.tif'):
        load_image(str(tmp_path / 'gone.tif'))
    with pytest.raises(IsADirectoryError, match=f'{tmp_path} is a directory'):
        load_image(tmp_path)
    with pytest.raises(ValueError, match=r'\(H, W, 3\)'):
        load_image(np.zeros((4, 4, 2), np.uint8))
    gray = load_image(np.zeros((4, 5), np.uint8))
    assert gray.shape == (4, 5, 3)


# ----------------------------------------------------- init / inference_model
def test_inference_model(model, refsegrs_root):
    img = image_of(refsegrs_root)
    result = inference_model(model, img, 'the gray car')
    h, w = cv2.imread(img).shape[:2]
    assert result.pred_sem_seg.shape == (h, w)
    assert set(result.pred_sem_seg.data.unique().tolist()) <= {0, 1}
    assert result.metainfo['text'] == 'the gray car'
    results = inference_model(model, img, ['the gray car', 'a building'])
    assert [r.metainfo['text'] for r in results] == [
        'the gray car', 'a building'
    ]
    # the expression matters: same image, other text, other logits
    assert not torch.allclose(results[0].seg_logits.data,
                              results[1].seg_logits.data)


def test_checkpoint_of_another_model(lgce_tiny_ckpt):
    with pytest.raises(CheckpointMismatchError) as info:
        init_model(LAVT_TINY, lgce_tiny_ckpt, device='cpu')
    message = str(info.value)
    assert 'does not match' in message and 'another config' in message
    assert 'unknown to the model' in message and 'neck.' in message


def test_missing_files(tmp_path, lavt_tiny_ckpt):
    with pytest.raises(FileNotFoundError, match='Config file not found'):
        init_model(str(tmp_path / 'nope.py'))
    with pytest.raises(FileNotFoundError, match='Checkpoint file not found'):
        init_model(LAVT_TINY, str(tmp_path / 'nope.pth'), device='cpu')
    with pytest.raises(FileNotFoundError, match='Config file not found'):
        RRSISInferencer(str(tmp_path / 'nope.py'), lavt_tiny_ckpt)


def test_config_without_text_encoder():
    cfg = Config.fromfile(LAVT_TINY)
    # a plain mmseg segmentor: Swin + FCN head, no text encoder
    cfg.model = dict(
        type='EncoderDecoder',
        data_preprocessor=cfg.model.data_preprocessor,
        backbone=dict(
            type='SwinTransformer',
            embed_dims=32,
            depths=(1, 1, 1, 1),
            num_heads=(1, 2, 4, 8),
            window_size=4),
        decode_head=dict(
            type='FCNHead',
            in_channels=256,
            in_index=3,
            channels=8,
            num_convs=1,
            num_classes=2))
    with pytest.raises(ValueError, match='without a text encoder'):
        init_model(cfg, device='cpu')
    # our segmentor refuses to be built without one
    cfg = Config.fromfile(LAVT_TINY)
    cfg.model.text_encoder = None
    with pytest.raises(ValueError, match='text_encoder'):
        init_model(cfg, device='cpu')


# ----------------------------------------------------------------- inferencer
def test_inferencer_one_image_several_expressions(inferencer, refsegrs_root,
                                                  tmp_path):
    img = image_of(refsegrs_root)
    out = inferencer(
        img,
        texts=['the gray car', 'building along the road'],
        return_vis=True,
        out_dir=str(tmp_path))
    h, w = cv2.imread(img).shape[:2]
    assert len(out['predictions']) == 2
    for mask in out['predictions']:
        assert mask.shape == (h, w) and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) <= {0, 1}
    # drawings: the image plus a band with the expression
    assert len(out['visualization']) == 2
    vis = out['visualization'][0]
    assert vis.shape[1] == w and vis.shape[0] > h and vis.shape[2] == 3
    assert sorted(os.listdir(tmp_path / 'vis')) == ['0_0.png', '0_1.png']
    saved = cv2.imread(str(tmp_path / 'pred' / '0_1.png'),
                       cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(saved, out['predictions'][1] * 255)


def test_inferencer_lists_and_single(inferencer, refsegrs_root):
    a, b = image_of(refsegrs_root, 0), image_of(refsegrs_root, 1)
    out = inferencer([a, cv2.imread(b)], texts=['the car', 'the tree'])
    assert len(out['predictions']) == 2 and out['visualization'] == []
    single = inferencer(a, texts='the car')
    assert isinstance(single['predictions'], np.ndarray)
    np.testing.assert_array_equal(single['predictions'],
                                  out['predictions'][0])
    samples = inferencer(a, texts=['the car'], return_datasamples=True)
    assert samples[0].metainfo['text'] == 'the car'


def test_inferencer_bad_input(inferencer, refsegrs_root, tmp_path):
    img = image_of(refsegrs_root)
    with pytest.raises(ValueError, match='2 images and 3 expressions'):
        inferencer([img, img], texts=['a', 'b', 'c'])
    with pytest.raises(ValueError, match='empty'):
        inferencer(img, texts=' ')
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        inferencer(str(tmp_path / 'missing.tif'), texts='the car')
    broken = tmp_path / 'broken.tif'
    broken.write_bytes(b'\x00' * 64)
    with pytest.raises(ValueError, match='Cannot read the image'):
        inferencer(str(broken), texts='the car')


def test_inferencer_warns_without_weights():
    with pytest.warns(UserWarning, match='random weights'):
        RRSISInferencer(LAVT_TINY, device='cpu')


# -------------------------------------------------------- sliding windows
def test_slide_inference_uses_the_text_in_every_window(model,
                                                       refsegrs_root):
    tile = load_image(image_of(refsegrs_root))  # 64x64
    wide = np.concatenate([tile, tile[:, ::-1]], axis=1)  # 64x128
    text = 'the gray car'
    whole_left = inference_model(model, tile, text).seg_logits.data
    whole_right = inference_model(model, np.ascontiguousarray(
        tile[:, ::-1]), text).seg_logits.data
    set_slide_inference(model, crop_size=64, stride=64)
    try:
        slid = inference_model(model, wide, text)
        # two windows, each exactly the whole-image result of its half
        assert slid.pred_sem_seg.shape == (64, 128)
        torch.testing.assert_close(slid.seg_logits.data[:, :, :64],
                                   whole_left, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(slid.seg_logits.data[:, :, 64:],
                                   whole_right, atol=1e-4, rtol=1e-4)
        other = inference_model(model, wide, 'a large building')
        assert not torch.allclose(other.seg_logits.data,
                                  slid.seg_logits.data)
    finally:
        model.test_cfg = dict(mode='whole')


def test_inferencer_slide_argument(lavt_tiny_ckpt, refsegrs_root):
    inferencer = RRSISInferencer(
        LAVT_TINY,
        lavt_tiny_ckpt,
        device='cpu',
        slide=dict(crop_size=(64, 64), stride=(48, 48)))
    assert inferencer.model.test_cfg.mode == 'slide'
    # Resize is skipped: a large tile keeps its size
    assert 'Resize' not in repr(inferencer.pipeline.transforms)
    tile = cv2.resize(load_image(image_of(refsegrs_root)), (150, 100))
    calls = []
    window_outputs = inferencer.model.window_outputs

    def counting(inputs, metas, *args, **kwargs):
        calls.append((tuple(inputs.shape[2:]), metas[0]['text']))
        return window_outputs(inputs, metas, *args, **kwargs)

    inferencer.model.window_outputs = counting
    out = inferencer(tile, texts='the gray car')
    assert out['predictions'].shape == (100, 150)
    # ceil((100-64)/48)+1 = 2 rows x ceil((150-64)/48)+1 = 3 columns
    assert len(calls) == 6
    assert all(c == ((64, 64), 'the gray car') for c in calls)
    with pytest.raises(ValueError, match='stride'):
        set_slide_inference(inferencer.model, crop_size=32, stride=48)


def test_rrsis_inferencer_precision(lavt_tiny_ckpt, refsegrs_root):
    """bf16 autocast gives (nearly) the float32 masks, as uint8 masks;
    fp16 needs a GPU."""
    image = image_of(refsegrs_root)
    texts = ['the gray car', 'building along the road']
    fp32 = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu')
    bf16 = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                           precision='bf16')
    for a, b in zip(fp32(image, texts)['predictions'],
                    bf16(image, texts)['predictions']):
        assert b.dtype == np.uint8 and (a == b).mean() > 0.95
    with pytest.raises(ValueError, match='CUDA'):
        RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                        precision='fp16')
