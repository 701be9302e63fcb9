"""Count the parameters and FLOPs of an mmrrsis model.

Usage::

    python tools/analysis_tools/get_flops.py configs/lgce_swin-b.py \
        --shape 480 480 --offline-text-encoder

FLOPs are counted by tracing one forward pass (mmengine's fvcore-style
``FlopAnalyzer``; one multiply-add counts as one FLOP) on a zero image and
a dummy expression, padded as the text encoder pads (LAVT: 20 tokens).
``--offline-text-encoder`` builds every text encoder from its own
``offline_cfg(node, 'random')`` (:func:`mmrrsis.apis.make_offline`; BERT:
the pretrained model's dimensions, random weights and the packaged
vocabulary unless its files are on the machine; other dimensions with
``--cfg-options model.text_encoder.bert_config.num_hidden_layers=24``),
so nothing is downloaded; parameter and FLOP counts are the same as for
the pretrained model. Nothing is loaded from ``init_cfg``. Numbers are
printed for the whole model and per part, and the neck (e.g. LGCE) is
reported as the overhead over the same model without it. A text encoder
that reads more than the string (its ``meta_keys``, e.g. FIANet's phrase
positions) gets them from the config's test pipeline run on the dummy
expression.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine import Config, DictAction
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from torch import nn

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

DEFAULT_TEXT = 'light-duty vehicle driving on the road'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs of an mmrrsis model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[480, 480],
        help='input image size: H W, or one value for a square')
    parser.add_argument(
        '--text', default=DEFAULT_TEXT, help='dummy referring expression')
    parser.add_argument(
        '--offline-text-encoder',
        action='store_true',
        help='build the text encoder at full size with random weights, '
        'nothing downloaded')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    return parser.parse_args(argv)


def sdpa_flop_handle(inputs, outputs) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention`` (mmengine has none).

    ``Q K^T`` and ``A V``: ``prod(Q.shape[:-1]) * N_k * (d_q + d_v)``.
    """
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    rows = 1
    for size in q[:-1]:
        rows *= size
    return rows * k[-2] * (q[-1] + v[-1])


def mha_flop_handle(inputs, outputs) -> int:
    """FLOPs of ``aten::_native_multi_head_attention`` (the fused path that
    ``nn.MultiheadAttention`` takes in eval mode; mmengine has none).

    Inputs (query, key, value, embed_dim, ...): the q, k, v projections
    ``(N_q + 2 N_k) E^2``, ``Q K^T`` and ``A V`` ``2 N_q N_k E``, the output
    projection ``N_q E^2``, per batch element.
    """
    from mmengine.analysis.jit_handles import get_shape
    query, key = get_shape(inputs[0]), get_shape(inputs[1])
    batch = 1
    for size in query[:-2]:
        batch *= size
    n_q, n_k, dim = query[-2], key[-2], query[-1]
    return batch * (2 * n_q * dim * dim + 2 * n_k * dim * dim +
                    2 * n_q * n_k * dim)


class _ForwardWithText(nn.Module):
    """Wrap a segmentor so that a trace sees ``forward(image)`` only."""

    def __init__(self, segmentor: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.segmentor = segmentor
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.segmentor._forward(inputs, self.data_samples)


def count(config: str,
          shape=(480, 480),
          text: str = DEFAULT_TEXT,
          offline_text_encoder: bool = False,
          cfg_options: dict = None) -> dict:
    """Build the model of ``config`` and count parameters and FLOPs.

    Args:
        config (str): Config file.
        shape (tuple[int, int]): Input (H, W). Defaults to (480, 480).
        text (str): Dummy expression. Defaults to :data:`DEFAULT_TEXT`.
        offline_text_encoder (bool): See the module docstring. Defaults to
            False.
        cfg_options (dict, optional): Config overrides. Defaults to None.

    Returns:
        dict: ``params`` and ``flops`` (ints) for the whole model and
        ``parts``: name -> (params, flops) for its top-level parts and the
        backbone's fusion modules.
    """
    from mmengine.structures import PixelData  # noqa: F401
    from mmseg.structures import SegDataSample

    from mmrrsis.apis import make_offline
    from mmrrsis.registry import MODELS

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    if offline_text_encoder:
        make_offline(cfg.model, 'random')
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    h, w = shape
    sample = SegDataSample(
        metainfo=dict(
            text=text, img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    keys = set(getattr(model.text_encoder, 'meta_keys', ()))
    if 'parse' in keys:
        # LSCM's word graph: the dummy expression parsed by the rule parser
        # (the config's parse cache holds its dataset's expressions only)
        from mmrrsis.datasets.expression_parse import rule_parse
        sample.set_metainfo(dict(parse=dict(rule_parse(text), text=text)))
        keys.discard('parse')
    if keys:
        # what the config's test pipeline adds for the text encoder (e.g.
        # FIANet's phrase positions), as inference does
        from mmrrsis.apis.pipeline import InferencePipeline
        meta = InferencePipeline(cfg, keep_size=True).text_record(text)
        sample.set_metainfo({k: meta[k] for k in keys if k in meta})
    wrapper = _ForwardWithText(model, [sample]).eval()
    image = torch.zeros(1, 3, h, w)
    with torch.no_grad():
        analyzer = FlopAnalyzer(wrapper, (image, ))
        analyzer.set_op_handle(
            'aten::scaled_dot_product_attention', sdpa_flop_handle)
        analyzer.set_op_handle('aten::_native_multi_head_attention',
                               mha_flop_handle)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        total_flops = analyzer.total()
        flops_by_module = analyzer.by_module()
    params = parameter_count(model)
    parts = {}
    names = [n for n, _ in model.named_children()
             if n != 'data_preprocessor']
    if hasattr(model.backbone, 'fusion'):
        names.append('backbone.fusion')
    for name in names:
        parts[name] = (params.get(name, 0),
                       flops_by_module.get('segmentor.' + name, 0))
    return dict(params=params[''], flops=total_flops, parts=parts)


def _fmt(params: int, flops: int) -> str:
    return (f'{params:>13,d} params ({params / 1e6:8.2f} M)  '
            f'{flops / 1e9:9.2f} GFLOPs')


def main(argv=None) -> dict:
    args = parse_args(argv)
    shape = tuple(args.shape) * (2 if len(args.shape) == 1 else 1)
    if len(shape) != 2:
        raise ValueError('--shape takes H W or a single size')
    result = count(args.config, shape, args.text, args.offline_text_encoder,
                   args.cfg_options)
    print(f'config: {args.config}')
    print(f'input:  1x3x{shape[0]}x{shape[1]}, expression "{args.text}"')
    print('total   ' + _fmt(result['params'], result['flops']))
    for name, (params, flops) in result['parts'].items():
        print(f'  {name:<16s}' + _fmt(params, flops))
    if 'neck' in result['parts']:
        params, flops = result['parts']['neck']
        base_params = result['params'] - params
        base_flops = result['flops'] - flops
        print(f'neck overhead over the model without it: +{params:,d} '
              f'params (+{100 * params / base_params:.2f}%), '
              f'+{flops / 1e9:.2f} GFLOPs '
              f'(+{100 * flops / max(base_flops, 1):.2f}%)')
    print('FLOPs: one multiply-add = 1, counted by mmengine FlopAnalyzer '
          '(traced ops; element-wise ops are not counted).')
    return result


if __name__ == '__main__':
    main()
