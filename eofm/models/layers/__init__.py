"""Building blocks shared by the patch-level multi-modal models (OmniSat, AnySat)."""
from .cross_rpe import CrossRPEAttention, CrossRPEBlock, RPEBlock
from .irpe import (RPEAttention, iRPE, irpe_bucket_ids, irpe_num_buckets,
                   piecewise_index)
from .ltae import LTAE, date_positional_encoding
from .patchify import gather_patches, patchify_aligned, pixels_per_patch
from .pos_embed import (get_1d_sincos_pos_embed,
                        get_2d_sincos_pos_embed_with_resolution,
                        get_2d_sincos_pos_embed_with_scale)

__all__ = [
    'CrossRPEAttention', 'CrossRPEBlock', 'RPEBlock', 'LTAE',
    'date_positional_encoding', 'iRPE', 'RPEAttention', 'irpe_bucket_ids',
    'irpe_num_buckets', 'piecewise_index', 'patchify_aligned', 'pixels_per_patch',
    'gather_patches',
    'get_1d_sincos_pos_embed', 'get_2d_sincos_pos_embed_with_scale',
    'get_2d_sincos_pos_embed_with_resolution'
]
