"""Convert a LAVT reference checkpoint (yz93/LAVT-RIS) for mmrrsis.

Usage::

    python tools/model_converters/lavt2mmrrsis.py model_best_refcoco.pth \
        work_dirs/lavt_refcoco_mmrrsis.pth [--bert bert_state.pth] \
        [--reference-args mha=2-2-4-8]

The result loads into ``configs/lavt_swin-b.py`` with no missing or
unexpected keys (``load_from=...`` or ``tools/test.py CONFIG CKPT``). The
key mapping is :func:`mmrrsis.models.converters.convert_lavt`; LAVT's
saved arguments (``--mha``, ``--swin_type``, the window size) are written
into the checkpoint's meta and checked against the config when it is
loaded (a checkpoint without them is assumed to have LAVT's defaults;
``--reference-args`` states them).

The source is read without running code from it: weights, numbers and the
``argparse.Namespace`` of the command line that LAVT's ``train.py`` saves
(:data:`mmrrsis.compat.REFERENCE_GLOBALS`); ``--unsafe-load`` unpickles it
completely (trusted files only).
"""
from mmrrsis.models.converters import convert_lavt, converter_cli


def main(argv=None) -> None:
    converter_cli(convert_lavt, 'LAVT', argv)


if __name__ == '__main__':
    main()
