"""Print a config after ``_base_`` inheritance and ``--cfg-options``.

Example::

    python tools/misc/print_config.py configs/lgce_swin-b.py \
        --cfg-options train_dataloader.batch_size=4
"""
import argparse

from mmengine import Config, DictAction


def parse_args():
    parser = argparse.ArgumentParser(description='Print the full config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings, key=value (e.g. a.b=1)')
    parser.add_argument(
        '--save-path', help='also write the resolved config here')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)
    if args.save_path is not None:
        cfg.dump(args.save_path)
        print(f'Config saved to {args.save_path}')


if __name__ == '__main__':
    main()
