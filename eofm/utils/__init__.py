"""Utilities: stack compatibility, safe checkpoints, CPU distributed set-up, env report."""
from .checkpoint import load_checkpoint_safely
from .dist import cpu_distributed_needed, setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'load_checkpoint_safely', 'cpu_distributed_needed', 'setup_cpu_distributed',
    'register_all_modules'
]
