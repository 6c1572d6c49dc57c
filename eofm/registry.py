"""eofm's registries: one child of each MMEngine root registry.

Each child has ``locations`` so that ``type='eofm.X'`` in a config whose
``default_scope`` is ``mmseg``, ``mmdet``, ``mmrotate`` or ``mmpretrain`` imports and
finds eofm's module, and eofm modules can build host modules with a scope prefix
(``dict(type='mmseg.UPerHead')``). ``EVALUATORS`` is an alias of ``EVALUATOR`` (the
MMEngine name) for symmetry with the host libraries. Registries whose modules have no
sub-package of their own yet point at ``eofm``, whose import registers everything.
"""
from mmengine.registry import Registry
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS

__all__ = ['RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'STRATEGIES', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'FUNCTIONS', 'EVALUATORS']

RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='eofm',
    locations=['eofm.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS, scope='eofm',
    locations=['eofm.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='eofm',
    locations=['eofm.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='eofm',
    locations=['eofm.engine'])
LOG_PROCESSORS = Registry(
    'log_processor', parent=MMENGINE_LOG_PROCESSORS, scope='eofm',
    locations=['eofm.engine'])
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, scope='eofm',
    locations=['eofm.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='eofm',
    locations=['eofm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='eofm',
    locations=['eofm.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, scope='eofm',
    locations=['eofm.engine'])
STRATEGIES = Registry(
    'strategy', parent=MMENGINE_STRATEGIES, scope='eofm',
    locations=['eofm.engine'])
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='eofm',
    locations=['eofm.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='eofm',
    locations=['eofm.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, scope='eofm',
    locations=['eofm.datasets'])
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='eofm',
    locations=['eofm.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='eofm',
    locations=['eofm.engine'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, scope='eofm',
    locations=['eofm.models'])
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, scope='eofm',
    locations=['eofm.models'])
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, scope='eofm',
    locations=['eofm'])
EVALUATOR = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, scope='eofm',
    locations=['eofm'])
VISUALIZERS = Registry(
    'visualizer', parent=MMENGINE_VISUALIZERS, scope='eofm',
    locations=['eofm'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, scope='eofm',
    locations=['eofm'])
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, scope='eofm',
    locations=['eofm.utils'])
EVALUATORS = EVALUATOR
