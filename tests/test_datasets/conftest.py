"""Shared fixtures of the dataset tests: small generated folders."""
import os.path as osp

import pytest
from mmengine.registry import init_default_scope

from mmrrsis.datasets.synthetic import (
    make_synthetic_refer,
    make_synthetic_refsegrs,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs', '_base_', 'datasets')


@pytest.fixture(scope='session')
def configs_dir():
    """configs/_base_/datasets of the repository."""
    return CONFIGS


@pytest.fixture(autouse=True)
def _mmrrsis_scope():
    """Build pipelines from plain type names, as a config does."""
    init_default_scope('mmrrsis')


@pytest.fixture(scope='session')
def refsegrs_root(tmp_path_factory):
    """A 64x64 RefSegRS-layout set (6 images, about 20 samples)."""
    root = str(tmp_path_factory.mktemp('refsegrs'))
    summary = make_synthetic_refsegrs(
        root, num_images=6, size=64, seed=3, show_progress=False)
    return root, summary


@pytest.fixture(scope='session')
def refer_root(tmp_path_factory):
    """A 64x64 refer-layout set (RRSIS-D names), every encoding present."""
    root = str(tmp_path_factory.mktemp('refer'))
    summary = make_synthetic_refer(
        root, num_images=8, size=64, seed=1, encoding='mixed',
        overlap_ratio=.6, show_progress=False)
    return root, summary
