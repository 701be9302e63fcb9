"""Every speed or memory switch computes what the plain path computes.

Gradient checkpointing (backbone, text encoder), channels-last decoder
convolutions, the no-grad path of a frozen text encoder and the fused
AdamW are compared with the plain path on tiny models in float32; bf16
autocast is compared loosely. See docs/speed.md for what each one buys.
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper

from mmrrsis.models.backbones import LanguageAwareSwin
from mmrrsis.models.text_encoders import TINY_VOCAB_NAME, BertTextEncoder
from mmrrsis.models.utils import TextFeatures

TINY_BERT = dict(
    vocab_size=512,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64)
TEXTS = ['the white car on the left', 'a building']


def _twins(build, **switches):
    """The same module twice (same weights): plain and with ``switches``."""
    torch.manual_seed(0)
    plain = build()
    fast = build(**switches)
    fast.load_state_dict(plain.state_dict())
    return plain, fast


def _grads(module):
    return {
        n: p.grad.clone()
        for n, p in module.named_parameters() if p.grad is not None
    }


def _assert_same_grads(a, b, rel=1e-5):
    """Same gradients up to ``rel`` times each gradient's largest entry
    (float32 sums in another order; BN on a batch of 2 amplifies that),
    or 1e-7 for gradients that are zero but for rounding (the bias of a
    projection followed by instance norm)."""
    ga, gb = _grads(a), _grads(b)
    assert ga.keys() == gb.keys() and len(ga) > 0
    for name, expected in ga.items():
        error = (gb[name] - expected).abs().max()
        assert error <= rel * expected.abs().max() + 1e-7, (name, error)


class _CallCounter:
    """Counts the calls of a module (a pre-hook: a recomputation stops
    early, once it has what the backward pass needs)."""

    def __init__(self, module):
        self.calls = 0
        module.register_forward_pre_hook(self)

    def __call__(self, *args):
        self.calls += 1


def _swin(with_cp=False):
    return LanguageAwareSwin(
        pretrain_img_size=64,
        embed_dims=16,
        window_size=4,
        depths=[2, 1, 1, 1],
        num_heads=[1, 2, 2, 4],
        drop_path_rate=0.3,  # random masks must be drawn again alike
        fusion_cfg=dict(
            type='PWAMFusion', text_channels=32, gate_init='last'),
        with_cp=with_cp)


def test_backbone_checkpointing_same_outputs_and_grads():
    plain, fast = _twins(_swin, with_cp=True)
    assert fast.with_cp and not any(
        block.with_cp for stage in fast.stages for block in stage.blocks)
    gen = torch.Generator().manual_seed(1)
    image = torch.randn(2, 3, 64, 64, generator=gen)
    words = torch.randn(2, 20, 32, generator=gen).requires_grad_()
    mask = torch.zeros(2, 20)
    mask[0, :7] = mask[1, :3] = 1
    counter = _CallCounter(fast.stages[0].blocks[0])
    outs = {}
    for name, model in (('plain', plain), ('fast', fast)):
        model.train()
        torch.manual_seed(2)
        feats = model(image, TextFeatures(words, mask))
        sum((f * (i + 1)).mean() for i, f in enumerate(feats)).backward()
        outs[name] = [f.detach() for f in feats], words.grad.clone()
        words.grad = None
    # the block ran again in the backward pass: checkpointing is on
    assert counter.calls == 2
    for a, b in zip(outs['plain'][0], outs['fast'][0]):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(outs['plain'][1], outs['fast'][1])
    _assert_same_grads(plain, fast)
    # no checkpointing without gradients (eval, inference)
    fast.eval()
    with torch.no_grad():
        fast(image, TextFeatures(words, mask))
    assert counter.calls == 3


def _encoder(**kwargs):
    return BertTextEncoder(
        pretrained=None,
        bert_config=TINY_BERT,
        vocab=TINY_VOCAB_NAME,
        freeze_embeddings=True,
        eval_mode=True,
        **kwargs)


def test_text_encoder_checkpointing_in_eval_mode():
    plain, fast = _twins(_encoder, with_cp=True)
    counter = _CallCounter(fast.bert.encoder.layer[0])
    feats = {}
    for name, model in (('plain', plain), ('fast', fast)):
        model.train()  # BERT stays in eval mode (no dropout)
        assert not model.bert.encoder.layer[0].attention.training
        out, mask, _ = model(TEXTS)
        (out * mask[..., None]).square().mean().backward()
        feats[name] = out.detach()
    assert counter.calls == 2  # forward, then again in backward
    torch.testing.assert_close(feats['plain'], feats['fast'])
    _assert_same_grads(plain, fast)
    fast.eval()
    assert not fast.bert.encoder.layer[0].training


def test_frozen_text_encoder_keeps_no_graph():
    plain, frozen = _twins(_encoder, freeze=True)
    plain.train()  # BERT in eval mode: no dropout
    with torch.no_grad():
        expected = plain(TEXTS).words
    frozen.train()
    feats = frozen(TEXTS).words
    assert feats.grad_fn is None and not feats.requires_grad
    torch.testing.assert_close(feats, expected)
    # a partly trainable encoder still records its graph
    feats = plain(TEXTS).words
    assert feats.requires_grad


def _head(channels_last=False):
    from mmrrsis.models.decode_heads import ReferringDecodeHead
    return ReferringDecodeHead(
        in_channels=[8, 16, 32, 64],
        channels=16,
        norm_cfg=dict(type='BN'),
        channels_last=channels_last)


def test_decode_head_channels_last_same_logits_and_grads():
    plain, fast = _twins(_head, channels_last=True)
    gen = torch.Generator().manual_seed(0)
    feats = [
        torch.randn(2, c, 32 // 2**i, 32 // 2**i, generator=gen)
        for i, c in enumerate([8, 16, 32, 64])
    ]
    logits = {}
    for name, head in (('plain', plain), ('fast', fast)):
        head.train()
        out = head(feats)
        out.square().mean().backward()
        logits[name] = out.detach()
    assert logits['fast'].is_contiguous()
    torch.testing.assert_close(logits['plain'], logits['fast'])
    _assert_same_grads(plain, fast, rel=5e-3)
    torch.testing.assert_close(plain.fuse_convs[0][0].bn.running_mean,
                               fast.fuse_convs[0][0].bn.running_mean)


def _schedule_optim_wrapper(**optimizer):
    path = osp.join(
        osp.dirname(__file__), '..', '..', 'configs', '_base_', 'schedules',
        'schedule_40e.py')
    cfg = copy.deepcopy(Config.fromfile(path).optim_wrapper.to_dict())
    cfg['optimizer'].update(optimizer, lr=1e-3)
    return cfg


def _twin_segmentors(helpers, plain_wrapper, fast_wrapper):
    """The tiny LAVT twice (same weights), each with its optimizer
    wrapper."""
    cfg = helpers.model_cfg('lavt_swin-tiny')
    plain = helpers.build_model(cfg)
    fast = helpers.build_model(cfg)
    fast.load_state_dict(plain.state_dict())
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('ERROR')  # the constructor logs every parameter
    try:
        wrappers = [
            build_optim_wrapper(plain, plain_wrapper),
            build_optim_wrapper(fast, fast_wrapper)
        ]
    finally:
        logger.setLevel(level)
    return plain, fast, wrappers


def _assert_same_trained_weights(plain, fast, before, tol):
    """Both models hold the same weights, and over 100 tensors moved from
    ``before`` (the state dict both started from)."""
    moved = 0
    for (n, a), b in zip(plain.state_dict().items(),
                         fast.state_dict().values()):
        torch.testing.assert_close(b, a, atol=tol, rtol=tol, msg=n)
        moved += int(not torch.equal(a, before[n]))
    assert moved > 100


def test_fused_adamw_same_update_with_decay_mult(helpers):
    cfg = helpers.model_cfg('lavt_swin-tiny')
    plain, fast, wrappers = _twin_segmentors(
        helpers, _schedule_optim_wrapper(fused=False),
        _schedule_optim_wrapper(fused=True))
    groups = wrappers[1].optimizer.param_groups
    assert wrappers[1].optimizer.defaults['fused'] is True
    # norms, relative position bias tables: no weight decay
    assert {g['weight_decay'] for g in groups} == {0.0, 1e-2}
    gen = torch.Generator().manual_seed(0)
    grads = {
        n: torch.randn(p.shape, generator=gen)
        for n, p in plain.named_parameters() if p.requires_grad
    }
    for _ in range(3):
        for model, wrapper in zip((plain, fast), wrappers):
            for n, p in model.named_parameters():
                if n in grads:
                    p.grad = grads[n].clone()
            wrapper.step()
            wrapper.zero_grad()
    before = helpers.build_model(cfg).state_dict()
    _assert_same_trained_weights(plain, fast, before, tol=1e-6)


def _segmentor_step(model, helpers, amp=False):
    model.train()
    model.zero_grad()
    data = dict(
        inputs=[
            torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(i))
            for i in range(2)
        ],
        data_samples=helpers.make_samples())
    data = model.data_preprocessor(data, True)
    torch.manual_seed(3)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        losses = model(**data, mode='loss')
    losses['decode.loss_ce'].backward()
    return losses['decode.loss_ce'].detach()


@pytest.mark.parametrize('name', ['lavt_swin-tiny', 'lgce_swin-tiny'])
def test_segmentor_all_switches_same_loss_and_grads(name, helpers):
    cfg = helpers.model_cfg(name)
    fast_cfg = copy.deepcopy(cfg)
    fast_cfg['backbone']['with_cp'] = True
    fast_cfg['text_encoder']['with_cp'] = True
    fast_cfg['decode_head']['channels_last'] = True
    plain = helpers.build_model(cfg)
    fast = helpers.build_model(fast_cfg)
    fast.load_state_dict(plain.state_dict())
    loss = _segmentor_step(plain, helpers)
    torch.testing.assert_close(_segmentor_step(fast, helpers), loss)
    _assert_same_grads(plain, fast, rel=5e-3)
    # bf16 autocast: the same loss up to bf16 rounding
    amp_loss = _segmentor_step(plain, helpers, amp=True)
    assert amp_loss.dtype == torch.float32
    torch.testing.assert_close(amp_loss, loss, atol=0.05, rtol=0.05)


def test_pwam_float32_under_autocast():
    from mmrrsis.models.fusions import PixelWordAttention
    torch.manual_seed(0)
    pwam = PixelWordAttention(16, text_channels=32)
    gen = torch.Generator().manual_seed(0)
    # a large per-channel mean: what makes bf16 instance norms imprecise
    x = torch.randn(2, 64, 16, generator=gen) + 20
    words = torch.randn(2, 20, 32, generator=gen)
    mask = torch.ones(2, 20)
    expected = pwam(x, words, mask)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = pwam(x, words, mask)
        pwam.fp32_in_amp = False
        low = pwam(x, words, mask)
    assert out.dtype == torch.float32 and low.dtype == torch.bfloat16
    torch.testing.assert_close(out, expected)
    error = (low.float() - expected).norm() / expected.norm()
    assert error > 1e-3  # bf16 really was used without the switch


@pytest.mark.parametrize('name', ['lavt_swin-b.py', 'lgce_swin-b.py'])
def test_headline_configs_switches(name, helpers):
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    # on: what pays and keeps the function (README, Speed and memory)
    assert cfg.optim_wrapper.optimizer.fused is True
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # --amp switches it
    # off: checkpointing costs time, channels-last costs time on CPUs
    assert not cfg.model.backbone.get('with_cp', False)
    assert not cfg.model.text_encoder.get('with_cp', False)
    assert not cfg.model.decode_head.get('channels_last', False)


def test_step_in_backward_same_training_as_optim_wrapper(helpers):
    """Three training steps of the tiny LAVT with the recipe's optimizer
    (fused AdamW, no-decay groups): updating inside the backward pass gives
    the parameters of the plain wrapper, and keeps no gradient."""
    in_backward = _schedule_optim_wrapper(fused=True)
    in_backward['type'] = 'StepInBackwardOptimWrapper'
    plain, fast, wrappers = _twin_segmentors(
        helpers, _schedule_optim_wrapper(fused=True), in_backward)
    assert type(wrappers[1]).__name__ == 'StepInBackwardOptimWrapper'
    before = copy.deepcopy(plain.state_dict())
    for step in range(3):
        losses = []
        for model, wrapper in zip((plain, fast), wrappers):
            data = dict(
                inputs=[
                    torch.randint(
                        0, 255, (3, 64, 64), dtype=torch.uint8,
                        generator=torch.Generator().manual_seed(step * 2 + i))
                    for i in range(2)
                ],
                data_samples=helpers.make_samples(seed=step))
            torch.manual_seed(step)  # the same dropout and drop-path masks
            losses.append(model.train_step(data, wrapper)['loss'])
        torch.testing.assert_close(losses[1], losses[0], atol=1e-5, rtol=1e-5)
        assert all(p.grad is None for p in fast.parameters())
    _assert_same_trained_weights(plain, fast, before, tol=1e-5)
    # the same optimizer state, under the same keys (checkpoints)
    sa = wrappers[0].state_dict()['state']
    sb = wrappers[1].state_dict()['state']
    assert sa.keys() == sb.keys() and len(sa) > 100
    for key in sa:
        torch.testing.assert_close(
            sb[key]['exp_avg_sq'], sa[key]['exp_avg_sq'], atol=1e-6,
            rtol=1e-4)
        assert float(sb[key]['step']) == 3
