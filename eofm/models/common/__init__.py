"""Building blocks shared by eofm's models: iRPE and the RPE transformer blocks,
L-TAE, sin-cos positions, patchify, MIL-NCE, Sinkhorn-Knopp, the multi-modal data
preprocessor, the per-source training step, the EMA teacher's start, strict loading of released weights and
meta-device initialisation."""
from .data_preprocessor import MultiModalDataPreprocessor
from .modes import ModeForwardMixin
from .irpe import (RPEAttention, iRPE, irpe_bucket_ids, irpe_num_buckets,
                   piecewise_index)
from .ltae import LTAE, date_positional_encoding
from .meta_init import empty_weights, meta_checks
from .mil_nce import MILNCELoss
from .patchify import gather_patches, patchify_aligned, pixels_per_patch
from .pos_embed import (get_1d_sincos_pos_embed,
                        get_2d_sincos_pos_embed_with_resolution,
                        get_2d_sincos_pos_embed_with_scale)
from .pretrained import (PretrainedMismatchError, load_pretrained, pretrained_init_cfg,
                         unwrap_state_dict)
from .rpe_blocks import CrossRPEAttention, CrossRPEBlock, RPEBlock
from .sinkhorn import sinkhorn_knopp
from .source_blocks import add_source_logs, split_source_blocks
from .teacher import EMATeacherMixin

__all__ = [
    'MultiModalDataPreprocessor', 'ModeForwardMixin', 'RPEAttention', 'iRPE', 'irpe_bucket_ids',
    'irpe_num_buckets', 'piecewise_index', 'LTAE', 'date_positional_encoding',
    'empty_weights', 'meta_checks', 'MILNCELoss', 'gather_patches', 'patchify_aligned',
    'pixels_per_patch', 'get_1d_sincos_pos_embed',
    'get_2d_sincos_pos_embed_with_resolution', 'get_2d_sincos_pos_embed_with_scale',
    'PretrainedMismatchError', 'load_pretrained', 'pretrained_init_cfg',
    'unwrap_state_dict', 'CrossRPEAttention', 'CrossRPEBlock', 'RPEBlock',
    'sinkhorn_knopp', 'add_source_logs', 'split_source_blocks', 'EMATeacherMixin'
]
