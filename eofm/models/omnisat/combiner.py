"""OmniSat's modality combining network (paper Sec. 3.1, "Modality Combining").

The ``M x N`` projector tokens of a tile (``N`` patches in each of ``M`` modalities)
each get the learned absolute position of their patch (``pos_embed`` row ``1 + n``,
shared by the modalities); a cls token (plus ``pos_embed`` row 0) is prepended; six
self-attention blocks with image relative position encoding (iRPE on keys) mix all
tokens; then one cross-attention block whose learned query, plus its own learned
position per output token, attends over all ``1 + M x N`` tokens and returns one fused
token per patch (and the tile token), ``1 + N`` in all, with no residual around that
attention.

After OmniSat's ``OmniModule`` (``src/models/networks/encoder/Omni.py``) and its
``RPEBlock`` / ``CrossRPEBlock`` (``.../encoder/utils/utils_ViT.py``), MIT: names
``cls_token``, ``pos_embed``, ``blocks.{0..depth-1}`` (self-attention),
``blocks.{depth}`` (cross block, with ``attn.pos_embed``); LayerNorm eps 1e-6;
``pos_embed`` and ``cls_token`` truncated-normal (std 0.02), the cross block's query
and positions zero-initialised.

Grid of the self-attention iRPE:

* ``'inferred'`` (default, the reference): the sequence of ``L = 1 + M x N`` tokens is
  read as a ``floor(sqrt(L))`` square grid over its last tokens, the first ones being
  skip tokens; for TreeSatAI-TS (L = 109) a 10 x 10 grid whose positions do not
  follow the modalities' 6 x 6 grids. Kept for parity with the reference.
* ``'per_modality'``: every modality block is its own ``gh x gw`` grid and tokens of
  different modalities are related by their patch offset (same patch: distance 0).

The cross block always uses the per-patch grid (its queries are the ``N`` patches).
"""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from eofm.registry import MODELS
from ..common.rpe_blocks import CrossRPEBlock, RPEBlock

__all__ = ['OmniSatCrossBlock', 'OmniSatCombiner']


class OmniSatCrossBlock(CrossRPEBlock):
    """:class:`eofm.CrossRPEBlock` holding its query positions ``attn.pos_embed``.

    OmniSat's cross attention adds a learned (1, 1 + N, d) position (zero-initialised)
    to the learned query; it lives in the attention module, as in the reference.
    """

    def __init__(self, dim, num_heads, num_queries, **kwargs):
        super().__init__(dim, num_heads, **kwargs)
        self.attn.pos_embed = nn.Parameter(torch.zeros(1, num_queries, dim))

    def forward(self, x, hw_shape: Sequence[int], num_blocks: int = 1):
        return super().forward(x, self.attn.pos_embed, hw_shape, num_blocks, skip=1)


@MODELS.register_module()
class OmniSatCombiner(BaseModule):
    """Learned positions, cls token, iRPE self-attention blocks and the cross block.

    Args:
        num_patches (int): Patches per tile N (36 for TreeSatAI-TS).
        grid_shape (Sequence[int]): (gh, gw) with ``gh * gw = num_patches``.
        embed_dim (int): Token width d. Default 256.
        depth (int): Self-attention blocks. Default 6.
        num_heads (int): Heads. Default 16.
        mlp_ratio (float): MLP width / d. Default 4.
        qkv_bias (bool): Default True.
        drop_rate (float): Dropout after the attention projection and in the MLPs.
        attn_drop_rate (float): Attention dropout.
        drop_path_rate (float): Stochastic depth, linear from 0 over the ``depth``
            blocks.
        cross_drop_path_index (int, optional): The cross block gets the drop-path rate
            of this self-attention block. The reference indexes it with the number of
            modalities minus one (a loop variable left over), which the subclass
            passes; None uses the last block's rate.
        grid (str): ``'inferred'`` or ``'per_modality'`` (module docstring).
        init_cfg (dict, optional): mmengine init config.

    ``forward(tokens, num_modalities)``: ``tokens`` (B, M x N, d) with their positions
    already added (:meth:`add_pos_embed`); returns (B, 1 + N, d): the tile token then
    the fused patch tokens in row-major order.
    """

    def __init__(self,
                 num_patches: int = 36,
                 grid_shape: Sequence[int] = (6, 6),
                 embed_dim: int = 256,
                 depth: int = 6,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.2,
                 attn_drop_rate: float = 0.2,
                 drop_path_rate: float = 0.2,
                 cross_drop_path_index=None,
                 grid: str = 'inferred',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if grid not in ('inferred', 'per_modality'):
            raise ValueError(f"OmniSat: grid must be 'inferred' or 'per_modality', got "
                             f'{grid!r}')
        gh, gw = grid_shape
        if gh * gw != num_patches:
            raise ValueError(f'OmniSat: grid {gh} x {gw} does not hold {num_patches} '
                             'patches')
        self.num_patches, self.grid_shape = num_patches, (gh, gw)
        self.embed_dim, self.grid = embed_dim, grid
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        blocks = [
            RPEBlock(
                embed_dim,
                num_heads,
                mlp_ratio,
                qkv_bias,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                norm_eps=1e-6,
                grid=grid) for i in range(depth)
        ]
        cross_index = depth - 1 if cross_drop_path_index is None else min(
            cross_drop_path_index, depth - 1)
        blocks.append(
            OmniSatCrossBlock(
                embed_dim,
                num_heads,
                num_patches + 1,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[cross_index] if depth else 0.0,
                norm_eps=1e-6))
        self.blocks = nn.ModuleList(blocks)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def add_pos_embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, N, d) projector tokens of one modality plus the patch positions."""
        return tokens + self.pos_embed[:, 1:, :]

    def forward(self, tokens: torch.Tensor, num_modalities: int) -> torch.Tensor:
        b, length, _ = tokens.shape
        if length != num_modalities * self.num_patches:
            raise ValueError(f'OmniSat: {length} tokens are not {num_modalities} '
                             f'modalities x {self.num_patches} patches')
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(b, -1, -1)
        x = torch.cat([cls, tokens], dim=1)
        for blk in self.blocks[:-1]:
            if self.grid == 'inferred':
                x = blk(x)
            else:
                x = blk(x, self.grid_shape, num_modalities)
        return self.blocks[-1](x, self.grid_shape, num_modalities)
