"""The doctor builds pipelines from plain type names, as a config does."""
import pytest
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _mmrrsis_scope():
    """Build pipelines from plain type names, as a config does."""
    init_default_scope('mmrrsis')
