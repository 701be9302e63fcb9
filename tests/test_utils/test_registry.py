"""Registry resolution in both directions (mmrrsis <-> mmseg)."""
import pytest
from mmengine.registry import DefaultScope, init_default_scope
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS

import mmrrsis.registry as R
from mmrrsis.engine import RRSISRunner
from mmrrsis.utils import register_all_modules


@pytest.fixture
def scope():
    """Set the default scope for one test; mmrrsis again afterwards."""
    yield init_default_scope
    init_default_scope('mmrrsis')


def test_registries_are_children_of_mmseg():
    for name in R.__all__:
        registry = getattr(R, name)
        assert registry.scope == 'mmrrsis', name
        assert registry.parent is not None, name
        # mmseg has no registry of training strategies: mmengine's is the
        # parent of ours
        parent = 'mmengine' if name == 'STRATEGIES' else 'mmseg'
        assert registry.parent.scope == parent, name
        assert registry._locations, f'{name} has no lazy import location'


def test_own_component_by_plain_name_under_mmrrsis(scope):
    scope('mmrrsis')
    assert R.RUNNERS.get('RRSISRunner') is RRSISRunner


def test_own_component_by_scoped_name_under_mmseg(scope):
    scope('mmseg')
    assert MMSEG_RUNNERS.get('mmrrsis.RRSISRunner') is RRSISRunner
    # a name that exists nowhere stays unresolved
    assert MMSEG_RUNNERS.get('mmrrsis.NoSuchRunner') is None


@pytest.mark.parametrize('registry,name,module', [
    ('MODELS', 'SwinTransformer', 'mmseg.models.backbones.swin'),
    ('MODELS', 'CrossEntropyLoss', 'mmseg.models.losses.cross_entropy_loss'),
    ('MODELS', 'SegDataPreProcessor', 'mmseg.models.data_preprocessor'),
    ('TRANSFORMS', 'LoadImageFromFile', 'mmcv.transforms.loading'),
    ('TRANSFORMS', 'Resize', 'mmseg.datasets.transforms.transforms'),
    ('METRICS', 'IoUMetric', 'mmseg.evaluation.metrics.iou_metric'),
    ('VISUALIZERS', 'SegLocalVisualizer',
     'mmseg.visualization.local_visualizer'),
])
def test_mmseg_components_under_mmrrsis(scope, registry, name, module):
    scope('mmrrsis')
    cls = getattr(R, registry).get(name)
    assert cls is not None, f'{name} not found from scope mmrrsis'
    assert cls.__module__ == module


def test_build_mmseg_component_under_mmrrsis(scope):
    scope('mmrrsis')
    loss = R.MODELS.build(
        dict(type='CrossEntropyLoss', class_weight=[0.9, 1.1]))
    assert type(loss).__name__ == 'CrossEntropyLoss'
    assert loss.class_weight == [0.9, 1.1]
    # the same object through mmseg's registry with a scoped name
    assert MMSEG_MODELS.get('mmseg.CrossEntropyLoss') is type(loss)


def test_register_all_modules_sets_scope():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmrrsis'


def test_lazy_locations_in_a_fresh_process():
    """Only `import mmrrsis`: each registry imports its own packages (and
    mmseg's) on first search."""
    import subprocess
    import sys
    code = '\n'.join([
        'import mmrrsis',
        'from mmengine.registry import init_default_scope',
        'from mmrrsis.registry import HOOKS, METRICS, MODELS, TRANSFORMS',
        "init_default_scope('mmrrsis')",
        "for reg, name in [(HOOKS, 'RRSISVisualizationHook'),",
        "                  (METRICS, 'RRSISMetric'),",
        "                  (MODELS, 'LGCENeck'),",
        "                  (MODELS, 'SwinTransformer'),",
        "                  (TRANSFORMS, 'PackRRSISInputs')]:",
        '    assert reg.get(name) is not None, name',
        "print('RESOLVED')",
    ])
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'RESOLVED' in proc.stdout
