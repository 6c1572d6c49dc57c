"""FSDP wrapping of SkySense at block granularity."""
from eofm.registry import FUNCTIONS

__all__ = ['skysense_block_wrap_policy']


def _block_classes():
    from mmpretrain.models.backbones.swin_transformer_v2 import SwinBlockV2
    from mmseg.models.backbones.vit import TransformerEncoderLayer

    from ..backbones.skysense import SkySense
    from ..fusion.temporal_fusion import FusionLayer
    from ..fusion.up_head import SkySenseUpHead
    from ..heads.dino_projection_head import DINOProjectionHead
    return (SwinBlockV2, TransformerEncoderLayer, FusionLayer, SkySenseUpHead,
            DINOProjectionHead, SkySense)


@FUNCTIONS.register_module()
def skysense_block_wrap_policy(module, recurse, nonwrapped_numel=0):
    """FSDP ``auto_wrap_policy``: one unit per transformer block, up head,
    projection head and SkySense backbone (its remaining parameters)
    (``auto_wrap_policy=dict(type='eofm.skysense_block_wrap_policy')``).

    The student's and the EMA teacher's backbones then shard identically, so the
    teacher update can average the local shards element by element; with the
    leftovers of both in one root unit their shard boundaries would differ.
    A size-based policy would also wrap single large ``nn.Linear`` layers (Swin
    V2-H's last-stage qkv has 24M parameters), whose weights mmpretrain's window
    attention reads directly (``F.linear(x, self.qkv.weight, ...)``) outside the
    layer's own forward, where FSDP holds only a shard.
    """
    if recurse:
        return True
    return isinstance(module, _block_classes())
