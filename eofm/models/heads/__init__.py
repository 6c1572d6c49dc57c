"""Heads: projection heads of the self-supervised algorithms and the downstream heads
of the patch-token models (OmniSat, AnySat), with the neck that feeds them."""
from .dino_projection_head import DINOProjectionHead
from .multilabel_mlp_head import MultiLabelMLPClsHead
from .patch_seg_heads import PatchLinearSegHead, SubPatchLinearSegHead
from .tokens_to_map import TokensToMap

__all__ = [
    'DINOProjectionHead', 'MultiLabelMLPClsHead', 'PatchLinearSegHead',
    'SubPatchLinearSegHead', 'TokensToMap'
]
