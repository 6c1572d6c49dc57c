"""High-level helpers used by ``tools/``: config merging, runner building."""
from .runner_setup import (add_common_args, build_runner, enable_visualization,
                           load_config, merge_test_args, merge_train_args,
                           set_local_rank)

__all__ = [
    'add_common_args', 'build_runner', 'enable_visualization', 'load_config',
    'merge_test_args', 'merge_train_args', 'set_local_rank'
]
