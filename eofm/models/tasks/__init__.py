"""Task models and heads that serve every encoder: bi-temporal change detection,
image-to-image regression, heads and the neck of the patch-token models, and a small
baseline backbone."""
from .change_detection import *  # noqa: F401,F403
from .image_to_image import *  # noqa: F401,F403
from .multilabel_mlp_head import MultiLabelMLPClsHead
from .patch_seg_heads import PatchLinearSegHead, SubPatchLinearSegHead
from .simple_convnet import SimpleConvNet
from .tokens_to_map import TokensToMap
from .change_detection import __all__ as _cd
from .image_to_image import __all__ as _i2i

__all__ = list(_cd) + list(_i2i) + [
    'MultiLabelMLPClsHead', 'PatchLinearSegHead', 'SubPatchLinearSegHead',
    'SimpleConvNet', 'TokensToMap'
]
