"""Helpers shared by eofm's models."""
from .pretrained import (PretrainedMismatchError, load_pretrained, pretrained_init_cfg,
                         unwrap_state_dict)

__all__ = [
    'PretrainedMismatchError', 'load_pretrained', 'pretrained_init_cfg',
    'unwrap_state_dict'
]
