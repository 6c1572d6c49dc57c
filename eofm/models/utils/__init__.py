"""Helpers shared by eofm's models."""
from .pretrained import (PretrainedMismatchError, load_pretrained, pretrained_init_cfg,
                         unwrap_state_dict)

__all__ = [
    'PretrainedMismatchError', 'load_pretrained', 'pretrained_init_cfg',
    'unwrap_state_dict'
]
from .skysense_release import (RELEASE_FILES, merge_release, release_layout,
                               split_release)

__all__ += ['RELEASE_FILES', 'merge_release', 'release_layout', 'split_release']
from .meta_init import empty_weights, meta_checks

__all__ += ["empty_weights", "meta_checks"]
from .sinkhorn import sinkhorn_knopp

__all__ += ['sinkhorn_knopp']
from .fsdp_policy import skysense_block_wrap_policy

__all__ += ['skysense_block_wrap_policy']
from .source_blocks import add_source_logs, split_source_blocks

__all__ += ['add_source_logs', 'split_source_blocks']
