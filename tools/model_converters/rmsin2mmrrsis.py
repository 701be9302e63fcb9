"""Convert an RMSIN reference checkpoint (Lsan2401/RMSIN) for mmrrsis.

Usage::

    python tools/model_converters/rmsin2mmrrsis.py model_best_RMSIN.pth \
        work_dirs/rmsin_rrsisd_mmrrsis.pth [--bert bert_state.pth] \
        [--reference-args mha=2-2-4-8]

RMSIN's train.py saves ``{'model', 'optimizer', 'epoch', 'args',
'lr_scheduler'}`` (plus ``'bert_model'`` for its ``lavt`` variant; the
default ``lavt_one`` keeps BERT in ``model``). The file is read
without running code from it: weights, numbers and the
``argparse.Namespace`` of its ``args``
(:data:`mmrrsis.compat.REFERENCE_GLOBALS`); ``--unsafe-load`` unpickles it
completely (trusted files only). The result loads strictly into
``configs/rmsin/rmsin_swin-b_*.py`` (RMSIN's own test.py loads with
``strict=False``). The key mapping is
:func:`mmrrsis.models.converters.convert_rmsin`; the saved arguments
(``--mha``, ``--swin_type``, the window size) go into the checkpoint's
meta and are checked against the config when it is loaded.
"""
from mmrrsis.models.converters import convert_rmsin, converter_cli


def main(argv=None) -> None:
    converter_cli(convert_rmsin, 'RMSIN', argv)


if __name__ == '__main__':
    main()
