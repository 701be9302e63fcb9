"""Convert a LAVT reference checkpoint (yz93/LAVT-RIS) for mmrrsis.

Usage::

    python tools/model_converters/lavt2mmrrsis.py model_best_refcoco.pth \
        work_dirs/lavt_refcoco_mmrrsis.pth [--bert bert_state.pth]

The result loads into ``configs/lavt_swin-b.py`` with no missing or
unexpected keys (``load_from=...`` or ``tools/test.py CONFIG CKPT``). The
key mapping is :func:`mmrrsis.models.utils.convert_lavt`.

The source is read without running code from it: weights, numbers and the
``argparse.Namespace`` of the command line that LAVT's ``train.py`` saves
(:data:`mmrrsis.compat.REFERENCE_GLOBALS`); ``--unsafe-load`` unpickles it
completely (trusted files only).
"""
from mmrrsis.models.utils import convert_lavt, converter_cli


def main(argv=None) -> None:
    converter_cli(convert_lavt, 'LAVT', argv)


if __name__ == '__main__':
    main()
