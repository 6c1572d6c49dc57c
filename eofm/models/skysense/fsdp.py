"""FSDP wrapping at block granularity.

The units are the host libraries' transformer blocks that eofm's encoders use
(mmpretrain's ``SwinBlockV2``, mmseg's ``TransformerEncoderLayer``) and every eofm
module whose class declares ``fsdp_wrap = True`` (SkySense's fusion layers, up heads,
projection heads and the backbone itself): a model declares its units, this module
imports none of them.
"""
from eofm.registry import FUNCTIONS

__all__ = ['skysense_block_wrap_policy']


def _host_block_classes():
    from mmpretrain.models.backbones.swin_transformer_v2 import SwinBlockV2
    from mmseg.models.backbones.vit import TransformerEncoderLayer
    return (SwinBlockV2, TransformerEncoderLayer)


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
    return bool(getattr(type(module), 'fsdp_wrap', False)) or isinstance(
        module, _host_block_classes())
