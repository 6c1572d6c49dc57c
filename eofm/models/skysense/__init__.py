"""SkySense (Guo et al., CVPR 2024): the factorized multi-modal spatiotemporal encoder
(Swin V2 HR encoder, ViT Sentinel encoders, up heads, multi-modal temporal fusion,
geo-context), its pretraining (MGCL, cross-modal alignment, geo-context prototypes),
the layouts of the released checkpoints, FSDP units and the pretraining report."""
from .cross_modal_alignment import CrossModalAlignmentLoss
from .dino_loss import DINOLoss
from .fsdp import skysense_block_wrap_policy
from .geo_context import GeoContextIntegration, region_index
from .geo_prototype_learning import prototype_updates, update_geo_prototypes
from .pretrainer import SkySensePretrainer
from .outputs import SkySenseOutputs
from .projection_head import DINOProjectionHead
from .release import RELEASE_FILES, merge_release, release_layout, split_release
from .report_hook import PretrainReportHook
from .skysense import SkySense
from .swin import SkySenseSwinV2
from .temporal_fusion import FusionLayer, MultiModalTemporalFusion, date_table_lookup
from .up_head import SkySenseUpHead
from .vit import SkySenseViT

__all__ = [
    'CrossModalAlignmentLoss', 'DINOLoss', 'skysense_block_wrap_policy',
    'GeoContextIntegration', 'region_index', 'prototype_updates',
    'update_geo_prototypes', 'SkySensePretrainer', 'DINOProjectionHead', 'SkySenseOutputs',
    'RELEASE_FILES', 'merge_release', 'release_layout', 'split_release',
    'PretrainReportHook', 'SkySense', 'SkySenseSwinV2', 'FusionLayer',
    'MultiModalTemporalFusion', 'date_table_lookup', 'SkySenseUpHead', 'SkySenseViT'
]
