"""Checks a tool runs before a long job; not part of the data or model
layers (the doctor reads both: datasets as training would build them, and
the text encoder's tokenizer to count tokens).

- :mod:`.dataset_doctor`: read every sample of a config's datasets once and
  report what is wrong with the copy on disk
  (``tools/dataset_converters/check_dataset.py``).
- :mod:`.weights`: resolve every pretrained file a config names (local,
  cached, to download) and compare the local ones with the model
  (``tools/misc/check_weights.py``).
"""
from .dataset_doctor import SPLITS, check_dataset, format_report
from .weights import WeightCheck, check_weights, format_weights_report

__all__ = [
    'SPLITS', 'check_dataset', 'format_report', 'WeightCheck',
    'check_weights', 'format_weights_report'
]
