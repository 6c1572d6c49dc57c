"""AnySat's spatial transformer ``phi^trans``: one token per patch from its sub-patches.

Shared by all modalities (supplementary Sec. C, "Network Architecture"): the ``L``
sub-patch tokens of one patch, with a learned cls token prepended, get absolute 2D
sin-cos positions *in metres* (sub-patch index times the sub-patch size of the
modality, scale-adaptive encoding of the supplementary's "Position Encodings"
paragraph, Eq. A), go through ``depth`` pre-norm blocks whose attention carries iRPE
on keys, and a final LayerNorm. The cls output is the patch token of that modality;
the sub-patch outputs are kept for dense prediction.

Parameter names ``cls_token``, ``predictor_blocks.{i}.*``, ``predictor_norm`` as in
AnySat's ``TransformerMulti`` (``src/models/networks/encoder/Transformer.py``, MIT);
its LayerNorms use PyTorch's default epsilon (1e-5).
"""
import math
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_

from ..common.rpe_blocks import RPEBlock
from ..common.pos_embed import get_2d_sincos_pos_embed_with_scale

__all__ = ['AnySatSpatialTransformer']


class AnySatSpatialTransformer(nn.Module):
    """Shared sub-patch transformer (after AnySat's ``TransformerMulti``, MIT).

    Args:
        embed_dim (int): Token width D.
        depth (int): Blocks (6 in the release).
        num_heads (int): Heads (12 in the release).
        mlp_ratio (float): MLP width / D. Default 4.
        qkv_bias (bool): Default True.
        attn_drop_rate (float): Attention dropout.
        drop_path_rate (float): Stochastic depth, linear over the blocks.
        init_std (float): Std of the truncated-normal init of the linear layers.
        rpe_query_heads (str): ``'first'`` (default: the reference's iRPE, with which
            the release was trained, gives every head the first head's
            relative-position term) or ``'own'`` (each head its own; the iRPE
            paper). See :mod:`eofm.models.common.irpe`.

    ``forward(tokens, grid, resolution, keep_subpatch=False)``: ``tokens`` (M, L, D)
    with ``L = gh * gw`` sub-patches in row-major order of a ``gh x gw`` grid of
    ``resolution``-metre sub-patches. Returns the patch tokens (M, D), and with
    ``keep_subpatch`` also the sub-patch tokens (M, L, D).
    """

    def __init__(self,
                 embed_dim=768,
                 depth=6,
                 num_heads=12,
                 mlp_ratio=4.0,
                 qkv_bias=True,
                 attn_drop_rate=0.0,
                 drop_path_rate=0.0,
                 init_std=0.02,
                 rpe_query_heads='first'):
        super().__init__()
        self.embed_dim = embed_dim
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.predictor_blocks = nn.ModuleList([
            RPEBlock(
                embed_dim,
                num_heads,
                mlp_ratio,
                qkv_bias,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                rpe=True,
                norm_eps=1e-5,
                grid='per_modality',
                rpe_query_heads=rpe_query_heads) for i in range(depth)
        ])
        self.predictor_norm = nn.LayerNorm(embed_dim)
        self._init(init_std)

    def _init(self, std):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            for i, blk in enumerate(self.predictor_blocks):
                blk.attn.proj.weight.div_(math.sqrt(2.0 * (i + 1)))
                blk.mlp.fc2.weight.div_(math.sqrt(2.0 * (i + 1)))

    def forward(self,
                tokens: torch.Tensor,
                grid: Sequence[int],
                resolution: float,
                keep_subpatch: bool = False):
        m, length, d = tokens.shape
        gh, gw = grid
        if gh * gw != length:
            raise ValueError(f'{length} sub-patch tokens do not form a {gh}x{gw} grid')
        pos = get_2d_sincos_pos_embed_with_scale(
            d, (gh, gw), resolution, cls_token=True).to(tokens)
        x = torch.cat([self.cls_token.expand(m, -1, -1).to(tokens.dtype), tokens], 1)
        x = x + pos
        last = len(self.predictor_blocks) - 1
        for i, blk in enumerate(self.predictor_blocks):
            # without the sub-patch tokens only the cls row of the last block is read:
            # compute that row only (the same numbers, 1/L of the last block's work)
            x = blk(x, (gh, gw), num_queries=None if keep_subpatch or i < last else 1)
        x = self.predictor_norm(x)
        if keep_subpatch:
            return x[:, 0], x[:, 1:]
        return x[:, 0]
