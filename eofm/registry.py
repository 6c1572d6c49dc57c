"""eofm's registries: one child of each MMEngine root registry.

Each child has ``locations`` so that ``type='eofm.X'`` in a config whose
``default_scope`` is ``mmseg``, ``mmdet``, ``mmrotate`` or ``mmpretrain`` imports and
finds eofm's module, and eofm modules can build host modules with a scope prefix
(``dict(type='mmseg.UPerHead')``). ``EVALUATORS`` is an alias of ``EVALUATOR`` (the
MMEngine name) for symmetry with the host libraries. Registries whose modules have no
sub-package of their own yet point at ``eofm``, whose import registers everything.
"""
from mmengine.registry import Registry
from mmengine.registry import build_from_cfg
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

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'STRATEGIES',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS', 'EVALUATORS'
]


def _build_under_type_scope(build_func):
    """Wrap a registry's build function: ``type='mmseg.UPerHead'`` builds under mmseg.

    MMEngine resolves a scope-prefixed type but instantiates it under the current
    default scope, so host modules that build their own children without a prefix
    (``UPerHead`` building ``CrossEntropyLoss``) fail when eofm's scope is current.
    For a type prefixed with another library's scope, the build runs with that scope
    as default (MMEngine's ``_scope_`` mechanism); everything else is unchanged.
    """

    def build(cfg, registry, *args, **kwargs):
        if isinstance(cfg, dict) and '_scope_' not in cfg and isinstance(
                cfg.get('type'), str) and '.' in cfg['type']:
            scope, name = cfg['type'].split('.', 1)
            if scope != registry.scope:
                cfg = cfg.copy()
                cfg['type'] = name
                cfg['_scope_'] = scope
        return build_func(cfg, registry, *args, **kwargs)

    build.__wrapped__ = build_func
    return build


def _child(name, parent, location):
    return Registry(
        name,
        parent=parent,
        scope='eofm',
        locations=[location],
        build_func=_build_under_type_scope(parent.build_func or build_from_cfg))


RUNNERS = _child('runner', MMENGINE_RUNNERS, 'eofm.engine')
RUNNER_CONSTRUCTORS = _child('runner constructor', MMENGINE_RUNNER_CONSTRUCTORS,
                             'eofm.engine')
LOOPS = _child('loop', MMENGINE_LOOPS, 'eofm.engine')
HOOKS = _child('hook', MMENGINE_HOOKS, 'eofm.engine')
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, 'eofm.engine')
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, 'eofm.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, 'eofm.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, 'eofm.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          'eofm.engine')
STRATEGIES = _child('strategy', MMENGINE_STRATEGIES, 'eofm.engine')
DATASETS = _child('dataset', MMENGINE_DATASETS, 'eofm.datasets')
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, 'eofm.datasets')
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, 'eofm.datasets')
MODELS = _child('model', MMENGINE_MODELS, 'eofm.models')
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, 'eofm.engine')
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS,
                             'eofm.models')
TASK_UTILS = _child('task util', MMENGINE_TASK_UTILS, 'eofm.models')
METRICS = _child('metric', MMENGINE_METRICS, 'eofm.evaluation')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, 'eofm.evaluation')
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, 'eofm')
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, 'eofm')
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, 'eofm.utils')
EVALUATORS = EVALUATOR
