"""Time N expressions on one window against one expression.

A model whose image side never sees the text
(``model.image_features_are_text_free``, e.g. RSRefSeg2) encodes the
window once and decodes every expression from it
(``encode_image`` / ``decode_text``); any other model (LAVT, LGCE, RMSIN:
language enters the backbone) runs its whole network per expression
(``encode_decode`` on a batch of N copies of the window). The tool times
both cases for each config, in turns (one expression, then N, repeated), so
a shared machine slows both alike, and prints the median ratio::

    python tools/analysis_tools/benchmark_expressions.py \
        configs/tiny/rsrefseg2_tiny_refsegrs-64x64.py \
        configs/tiny/lavt_swin-tiny_refsegrs-64x64.py --size 64
    python tools/analysis_tools/benchmark_expressions.py \
        configs/rsrefseg2/rsrefseg2_sam2.1-l_siglip2-so400m_b8-600e_\
refsegrs-1024x1024.py --size 1024 --repeats 2 --out bench.json

Every config is built without network access (text encoders through
their ``offline_cfg``, BERT as ``benchmark.py --offline``) with random
weights; ``--size`` is the window's side.
"""
import argparse
import json
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrrsis.apis import make_offline

EXPRESSIONS = ('the long truck on the road', 'building along the road',
               'white car', 'tree near the building on the right',
               'road marking', 'the van in the parking lot', 'bikeway',
               'low vegetation beside the road', 'bus', 'sidewalk',
               'trailer behind the truck', 'car on the left')


def offline_model_cfg(cfg: Config) -> dict:
    """The config's model with every text encoder built offline (each
    encoder's own ``offline_cfg(node, 'random')``, see
    :func:`mmrrsis.apis.make_offline`)."""
    model = cfg.model.to_dict()
    make_offline(model, 'random')
    return model


def predict_window(model, image: torch.Tensor, texts) -> torch.Tensor:
    """Logits (N, K, H, W) of N expressions on one window (1, 3, H, W)."""
    if getattr(model, 'image_features_are_text_free', False):
        feats = model.encode_image(image)
        return model.decode_text(feats, model.encode_text(list(texts)))
    shape = tuple(image.shape[-2:])
    metas = [
        dict(text=t, img_shape=shape, pad_shape=shape, ori_shape=shape)
        for t in texts
    ]
    return model.encode_decode(image.expand(len(texts), -1, -1, -1), metas)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(config: str, size: int, num: int, repeats: int) -> dict:
    """Median seconds of 1 and of ``num`` expressions on a window."""
    from mmrrsis.registry import MODELS
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        model = MODELS.build(offline_model_cfg(cfg))
    model.eval()
    image = torch.rand(1, 3, size, size)
    texts = [EXPRESSIONS[i % len(EXPRESSIONS)] for i in range(num)]
    one, many = [], []
    with torch.inference_mode():
        predict_window(model, image, texts)  # warm-up
        predict_window(model, image, texts[:1])
        for _ in range(repeats):
            one.append(timed(lambda: predict_window(model, image, texts[:1])))
            many.append(timed(lambda: predict_window(model, image, texts)))
    return dict(
        config=config,
        shared_image_features=bool(
            getattr(model, 'image_features_are_text_free', False)),
        size=size,
        expressions=num,
        one_s=statistics.median(one),
        many_s=statistics.median(many),
        ratio=statistics.median(m / o for m, o in zip(many, one)),
        threads=torch.get_num_threads())


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--size', type=int, default=64, help='window side')
    parser.add_argument('--expressions', type=int, default=10)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--threads', type=int, help='torch threads (default: torch\'s)')
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmrrsis  # noqa: F401  (compatibility fixes, registration)
    results = []
    for config in args.configs:
        res = measure(config, args.size, args.expressions, args.repeats)
        results.append(res)
        print(f'{osp.basename(config)}: 1 expression {res["one_s"]:.3f} s, '
              f'{res["expressions"]} expressions {res["many_s"]:.3f} s, '
              f'ratio {res["ratio"]:.2f} (image features shared: '
              f'{res["shared_image_features"]})')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    main()
