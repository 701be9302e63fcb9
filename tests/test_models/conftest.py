"""Shared helpers of the model tests: tiny configs and data samples."""
import copy
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmrrsis  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')

TEXTS = ('the white car parked on the left side of the road',
         'building along the road')

_CFG_CACHE = {}


def model_cfg(name: str) -> dict:
    """The ``model`` dict of ``configs/_base_/models/<name>.py`` (a copy)."""
    if name not in _CFG_CACHE:
        path = osp.join(CONFIGS, '_base_', 'models', name + '.py')
        _CFG_CACHE[name] = Config.fromfile(path).model.to_dict()
    return copy.deepcopy(_CFG_CACHE[name])


def leaf_model_cfg(path: str) -> dict:
    """The ``model`` dict of a leaf config under ``configs/`` (a copy)."""
    if path not in _CFG_CACHE:
        _CFG_CACHE[path] = Config.fromfile(osp.join(CONFIGS,
                                                    path)).model.to_dict()
    return copy.deepcopy(_CFG_CACHE[path])


def build_model(cfg: dict, seed: int = 0):
    """Build a model under scope mmrrsis with a fixed seed."""
    from mmrrsis.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg)


def make_samples(texts=TEXTS, shape=(64, 64), ori_shape=None, seed=0,
                 with_gt=True):
    """SegDataSamples with metainfo text/img_shape/ori_shape/pad_shape."""
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for text in texts:
        sample = SegDataSample(
            metainfo=dict(
                text=text,
                img_shape=shape,
                ori_shape=ori_shape or shape,
                pad_shape=shape,
                scale_factor=(1., 1.)))
        if with_gt:
            gt = (torch.rand(1, *(ori_shape or shape), generator=gen) >
                  0.7).long()
            sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return samples


def make_text(batch=2, length=20, real=(7, 3), channels=16, seed=0):
    """A TextFeatures record: random words (B, L, C), the first ``real[b]``
    positions of sample b real, the rest padding."""
    from mmrrsis.models.utils import TextFeatures
    gen = torch.Generator().manual_seed(seed)
    words = torch.randn(batch, length, channels, generator=gen)
    mask = torch.zeros(batch, length)
    for b, n in enumerate(real):
        mask[b, :n] = 1
    return TextFeatures(words, mask)


def make_feats(channels, size=32, batch=2, seed=0):
    """Multi-scale maps (B, C_i, size / 2^i, size / 2^i)."""
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, size // 2**i, size // 2**i, generator=gen)
        for i, c in enumerate(channels)
    ]


def write_tiny_tokenizer(folder) -> int:
    """Write a tiny SentencePiece-like HuggingFace tokenizer (whole words of
    the packaged vocabulary, ``</s>`` appended, ``<pad>`` on the right, no
    token type ids, like SigLIP 2's Gemma tokenizer) to ``folder``.

    Returns:
        int: Its vocabulary size.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    from mmrrsis.models.text_encoders import tiny_vocab
    vocab = {'<pad>': 0, '</s>': 1, '<unk>': 2}
    for word in tiny_vocab():
        if not word.startswith(('[', '##')):
            vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single='$A </s>', special_tokens=[('</s>', 1)])
    PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token='<pad>',
        eos_token='</s>',
        unk_token='<unk>',
        model_input_names=['input_ids', 'attention_mask'],
        padding_side='right').save_pretrained(str(folder))
    return len(vocab)


def make_inputs(batch=2, shape=(64, 64), seed=0):
    """Normalised-looking image batch (B, 3, H, W)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, *shape, generator=gen)


@pytest.fixture(scope='session', autouse=True)
def _mmrrsis_scope():
    init_default_scope('mmrrsis')
    yield


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread; with other test processes on
    the 2-core machine, intra-op threads slow them down several times."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def helpers():
    """The helpers above, for tests (conftest modules are not imported)."""
    from types import SimpleNamespace
    return SimpleNamespace(
        model_cfg=model_cfg,
        leaf_model_cfg=leaf_model_cfg,
        build_model=build_model,
        make_samples=make_samples,
        make_inputs=make_inputs,
        make_text=make_text,
        make_feats=make_feats,
        write_tiny_tokenizer=write_tiny_tokenizer,
        texts=TEXTS,
        configs=CONFIGS,
        repo=REPO)
