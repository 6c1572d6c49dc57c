"""High-level helpers used by ``tools/``: config merging, runner building, scene
inference (:mod:`.scene_inference`), frozen-feature probes (:mod:`.probe`)."""
from .runner_setup import (add_common_args, build_runner, enable_visualization,
                           load_config, merge_test_args, merge_train_args,
                           set_local_rank)
from .checkpoint_normalization import apply_checkpoint_normalization
from .features import model_features
from .probe import run_probe
from .scene_inference import SceneInferenceError, SceneInferencer

__all__ = [
    'add_common_args', 'build_runner', 'enable_visualization', 'load_config',
    'merge_test_args', 'merge_train_args', 'set_local_rank', 'model_features', 'run_probe',
    'SceneInferencer', 'SceneInferenceError', 'apply_checkpoint_normalization'
]
