"""Convert RSRefSeg2's released checkpoint (KyanChen/RSRefSeg2) for
mmrrsis.

Usage::

    python tools/model_converters/rsrefseg22mmrrsis.py refsegrs.pth \
        work_dirs/rsrefseg2_refsegrs.pth [--merge-lora] [--lora-scaling 1]

The release is an mmengine checkpoint ``{'state_dict': ...}`` with LoRA
not merged; the result loads strictly into
``configs/rsrefseg2/rsrefseg2_*.py`` (with ``--merge-lora``: into the same
config with ``--cfg-options model.lora_merged=True``, towers without
adapters, fewer operations per layer). It is read without running code
from it; ``--unsafe-load`` unpickles it completely (trusted files only,
e.g. a DeepSpeed ``mp_rank_00_model_states.pt``). The key mapping is
:func:`mmrrsis.models.converters.convert_rsrefseg2`.
"""
import argparse
import sys

from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.models.converters import convert_rsrefseg2_file
from mmrrsis.utils import add_unsafe_load_arg


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Convert an RSRefSeg2 checkpoint into mmrrsis keys')
    parser.add_argument('src', help='RSRefSeg2 checkpoint')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--merge-lora',
        action='store_true',
        help='fold the LoRA adapters into the weights (load with '
        '--cfg-options model.lora_merged=True)')
    parser.add_argument(
        '--lora-scaling',
        type=float,
        default=1.0,
        help='lora_alpha / r of the run (16 / 16 in the recipe)')
    add_unsafe_load_arg(parser, 'the input')
    args = parser.parse_args(argv)
    try:
        count = convert_rsrefseg2_file(args.src, args.dst, args.merge_lora,
                                       args.lora_scaling, args.unsafe_load)
    except (OSError, KeyError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'{count} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
