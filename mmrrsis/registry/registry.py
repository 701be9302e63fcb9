"""Registries of mmrrsis, children of mmsegmentation's.

Each registry has scope ``mmrrsis`` and mmseg's registry as parent, so under
the default scope ``mmrrsis`` a config can name both our components
(``type='LGCENeck'``) and mmseg's or mmengine's (``type='SwinTransformer'``,
``type='CrossEntropyLoss'``, ``type='LoadImageFromFile'``); under scope
``mmseg`` our components are reached as ``type='mmrrsis.LGCENeck'``.
``locations`` lists the packages imported lazily the first time a registry
is searched, so building from a config needs no explicit import.
"""
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import (
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
)
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS


def _child(name: str, parent: Registry, *locations: str) -> Registry:
    # mmengine imports only the searched registry's own locations, not its
    # parents', so mmseg's locations are listed too: a plain mmseg name
    # (e.g. 'SegLocalVisualizer') then resolves under scope mmrrsis even
    # before anything imported mmseg's package.
    own = list(locations) + [
        loc for loc in parent._locations if loc not in locations
    ]
    return Registry(name, parent=parent, scope='mmrrsis', locations=own)


# runners and their parts
RUNNERS = _child('runner', MMSEG_RUNNERS, 'mmrrsis.engine')
RUNNER_CONSTRUCTORS = _child('runner constructor', MMSEG_RUNNER_CONSTRUCTORS,
                             'mmrrsis.engine')
LOOPS = _child('loop', MMSEG_LOOPS, 'mmrrsis.engine')
HOOKS = _child('hook', MMSEG_HOOKS, 'mmrrsis.engine', 'mmrrsis.visualization')

# data
DATASETS = _child('dataset', MMSEG_DATASETS, 'mmrrsis.datasets')
DATA_SAMPLERS = _child('data sampler', MMSEG_DATA_SAMPLERS,
                       'mmrrsis.datasets')
TRANSFORMS = _child('transform', MMSEG_TRANSFORMS, 'mmrrsis.datasets')

# models
MODELS = _child('model', MMSEG_MODELS, 'mmrrsis.models')
MODEL_WRAPPERS = _child('model_wrapper', MMSEG_MODEL_WRAPPERS,
                        'mmrrsis.engine')
WEIGHT_INITIALIZERS = _child('weight initializer', MMSEG_WEIGHT_INITIALIZERS,
                             'mmrrsis.models')
TASK_UTILS = _child('task util', MMSEG_TASK_UTILS, 'mmrrsis.models')

# optimisation
OPTIMIZERS = _child('optimizer', MMSEG_OPTIMIZERS, 'mmrrsis.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMSEG_OPTIM_WRAPPERS,
                        'mmrrsis.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'mmrrsis.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMSEG_PARAM_SCHEDULERS,
                          'mmrrsis.engine')
# training strategies of the FlexibleRunner (DeepSpeed, FSDP); mmseg has no
# registry of its own for them
STRATEGIES = _child('strategy', MMENGINE_STRATEGIES, 'mmrrsis.engine')

# evaluation, visualisation, logging, inference
METRICS = _child('metric', MMSEG_METRICS, 'mmrrsis.evaluation')
EVALUATOR = _child('evaluator', MMSEG_EVALUATOR, 'mmrrsis.evaluation')
VISUALIZERS = _child('visualizer', MMSEG_VISUALIZERS, 'mmrrsis.visualization')
VISBACKENDS = _child('vis_backend', MMSEG_VISBACKENDS,
                     'mmrrsis.visualization')
LOG_PROCESSORS = _child('log_processor', MMSEG_LOG_PROCESSORS,
                        'mmrrsis.engine')
INFERENCERS = _child('inferencer', MMSEG_INFERENCERS, 'mmrrsis.apis')
