"""Dataset tests build pipelines from plain type names, as a config does
(the data fixtures they share with other folders are in tests/conftest.py).
"""
import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _mmrrsis_scope():
    """Build pipelines from plain type names, as a config does."""
    init_default_scope('mmrrsis')
