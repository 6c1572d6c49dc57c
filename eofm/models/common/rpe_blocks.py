"""Transformer blocks with image relative position encoding: self- and cross-attention.

Two pre-norm blocks shared by the patch-level multi-modal models (AnySat, OmniSat):

* :class:`RPEBlock`: ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))`` with
  :class:`eofm.RPEAttention` (iRPE on keys, or none). Parameter names ``norm1``,
  ``attn.qkv``, ``attn.proj``, ``attn.rpe_k.lookup_table_weight``, ``norm2``,
  ``mlp.fc1``, ``mlp.fc2``: the layout of the references' ``Block`` /
  ``BlockTransformer`` (after AnySat's and OmniSat's ``utils_ViT.py``, MIT).
* :class:`CrossRPEBlock`: the modality combiner's last block. A learned query
  ``q_learned`` plus a given positional encoding (one query per skip token and per
  patch) attends over all tokens of all modalities; the keys of one patch in every
  modality share that patch's relative position to the query (iRPE on keys, euclidean,
  contextual, one table for all heads); there is *no residual* around the attention,
  then ``x + mlp(norm2(x))``. Names ``norm1``, ``attn.wk``, ``attn.wv``,
  ``attn.q_learned``, ``attn.rpe_k.lookup_table_weight``, ``attn.proj``, ``norm2``,
  ``mlp.fc1``, ``mlp.fc2`` (after the references' ``CrossRPEAttentionMulti`` /
  ``CrossBlockMulti``, MIT).

Token layout of the cross block's input (B, N, D): ``skip`` leading tokens without a
position (cls, and in AnySat a tile-level MODIS token), then ``num_blocks`` blocks of
``gh * gw`` patch tokens, each block a row-major grid (one block per modality). The
queries are ``skip + gh * gw``. As in the references, the relative-position term of the
cross attention is computed from the *unscaled* query: ``q k^T * scale + q . r_b``.

Both blocks take ``rpe_query_heads`` (:mod:`.irpe`): ``'own'`` (each head its own
query, OmniSat) or ``'first'`` (every head the first head's query, as AnySat's
reference and its released weights).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn.bricks.drop import DropPath

from eofm.registry import MODELS
from .irpe import RPEAttention, iRPE, irpe_bucket_ids

__all__ = ['Mlp', 'RPEBlock', 'CrossRPEAttention', 'CrossRPEBlock', 'cross_bucket_ids']


class Mlp(nn.Module):
    """``fc1 -> GELU -> dropout -> fc2 -> dropout`` (timm's ``Mlp`` layout)."""

    def __init__(self, dim, hidden_dim, drop=0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


@MODELS.register_module()
class RPEBlock(nn.Module):
    """Pre-norm transformer block whose attention is :class:`eofm.RPEAttention`.

    Args:
        dim (int): Token width.
        num_heads (int): Heads.
        mlp_ratio (float): Hidden width of the MLP / ``dim``. Default 4.
        qkv_bias (bool): Bias of ``qkv``. Default True.
        drop (float): Dropout after ``proj`` and in the MLP.
        attn_drop (float): Dropout on the attention weights.
        drop_path (float): Stochastic depth on both residual branches.
        rpe (bool): iRPE on keys (AnySat's spatial transformer) or plain attention
            (AnySat's combiner blocks). Default True.
        norm_eps (float): LayerNorm epsilon (1e-5 in AnySat's spatial transformer,
            1e-6 in its combiner).
        grid (str): ``'inferred'`` or ``'per_modality'``, see :class:`RPEAttention`.
        rpe_query_heads (str): ``'own'`` (default) or ``'first'``, see :mod:`.irpe`.
    """

    def __init__(self,
                 dim,
                 num_heads,
                 mlp_ratio=4.0,
                 qkv_bias=True,
                 drop=0.0,
                 attn_drop=0.0,
                 drop_path=0.0,
                 rpe=True,
                 norm_eps=1e-5,
                 grid='inferred',
                 rpe_query_heads='own'):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = RPEAttention(
            dim,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            attn_drop=attn_drop,
            proj_drop=drop,
            rpe=rpe,
            grid=grid,
            rpe_query_heads=rpe_query_heads)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x, hw_shape=None, num_grids=1, num_queries=None):
        """``num_queries=q``: only the first ``q`` tokens are updated and returned
        (B, q, dim), the rest serving as keys and values (see :class:`RPEAttention`)."""
        a = self.attn(self.norm1(x), hw_shape, num_grids, num_queries)
        if num_queries is not None:
            x = x[:, :num_queries]
        x = x + self.drop_path(a)
        return x + self.drop_path(self.mlp(self.norm2(x)))


def cross_bucket_ids(height, width, skip=1, num_blocks=1, ratio=1.9, device=None):
    """iRPE bucket ids (skip + h * w, skip + num_blocks * h * w) of the cross block.

    Query ``i`` (a skip token or a patch) and key ``j`` get the bucket of query ``i``
    and the patch of key ``j`` on the ``height x width`` grid, whichever block
    (modality) the key is in; skip tokens use the extra bucket.
    """
    ids = irpe_bucket_ids(height, width, skip, 1, ratio, device)
    if num_blocks == 1:
        return ids
    return torch.cat([ids[:, :skip], ids[:, skip:].repeat(1, num_blocks)], dim=1)


class CrossRPEAttention(nn.Module):
    """Learned-query cross-attention with iRPE on keys (after the references'
    ``CrossRPEAttentionMulti``, MIT).

    ``forward(x, pos_embed, hw_shape, num_blocks, skip=1, keep=None)``: ``x``
    (B, N, D) tokens with ``N = skip + num_blocks * K``; ``pos_embed`` (1 or B,
    skip + K, D) added to ``q_learned`` to form the queries. ``K = h * w`` (every
    patch of the ``h x w`` grid) or, with ``keep`` (B, K) patch indices (row-major in
    the grid), the kept patches of each sample: queries and keys are those patches,
    with the relative positions they have on the full grid (AnySat's JEPA context).
    Returns (B, skip + K, D).
    """

    def __init__(self,
                 dim,
                 num_heads=8,
                 qkv_bias=True,
                 qk_scale=None,
                 attn_drop=0.0,
                 proj_drop=0.0,
                 rpe_ratio=1.9,
                 rpe_query_heads='own'):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim={dim} is not divisible by num_heads={num_heads}')
        self.num_heads, self.rpe_ratio = num_heads, rpe_ratio
        head_dim = dim // num_heads
        self.scale = qk_scale or head_dim**-0.5
        self.wk = nn.Linear(dim, dim, bias=qkv_bias)
        self.wv = nn.Linear(dim, dim, bias=qkv_bias)
        self.q_learned = nn.Parameter(torch.zeros(1, 1, dim))
        self.rpe_k = iRPE(head_dim, 1, rpe_ratio, query_heads=rpe_query_heads)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def bucket_ids(self, hw_shape, num_blocks, skip, keep=None, device=None):
        """Bucket ids of queries x keys: (Lq, Lk), or (B, Lq, Lk) with ``keep``."""
        h, w = hw_shape
        if keep is None:
            return cross_bucket_ids(h, w, skip, num_blocks, self.rpe_ratio, device)
        ids = irpe_bucket_ids(h, w, skip, 1, self.rpe_ratio, device)
        b = keep.shape[0]
        sel = torch.cat([
            torch.arange(skip, device=device)[None].expand(b, -1),
            keep.to(device) + skip
        ], 1)  # (B, skip + K) rows / columns of the full grid's table
        ids = ids[None].expand(b, -1, -1)
        ids = torch.gather(ids, 1, sel[..., None].expand(-1, -1, ids.shape[-1]))
        ids = torch.gather(ids, 2, sel[:, None].expand(-1, ids.shape[1], -1))
        return torch.cat([ids[..., :skip], ids[..., skip:].repeat(1, 1, num_blocks)],
                         dim=-1)

    def forward(self,
                x,
                pos_embed,
                hw_shape: Sequence[int],
                num_blocks: int = 1,
                skip: int = 1,
                keep: Optional[torch.Tensor] = None):
        b, n, c = x.shape
        h, w = hw_shape
        k_patches = h * w if keep is None else keep.shape[1]
        if n != skip + num_blocks * k_patches:
            raise ValueError(f'{n} tokens do not hold {skip} skip token(s) and '
                             f'{num_blocks} block(s) of {k_patches} patches')
        num_q = skip + k_patches
        if pos_embed.shape[-2] != num_q:
            raise ValueError(f'pos_embed has {pos_embed.shape[-2]} rows, expected '
                             f'{num_q}')
        heads, hd = self.num_heads, c // self.num_heads
        q = (self.q_learned + pos_embed.to(x.dtype)).expand(b, num_q, c)
        q = q.reshape(b, num_q, heads, hd).transpose(1, 2)
        k = self.wk(x).reshape(b, n, heads, hd).transpose(1, 2)
        v = self.wv(x).reshape(b, n, heads, hd).transpose(1, 2)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        ids = self.bucket_ids(hw_shape, num_blocks, skip, keep, x.device)
        attn = attn + self.rpe_k.lookup(q, ids)
        attn = self.attn_drop(attn.softmax(dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(b, num_q, c)
        return self.proj_drop(self.proj(out))


@MODELS.register_module()
class CrossRPEBlock(nn.Module):
    """Learned-query cross-attention block, no residual around the attention.

    ``out = a + mlp(norm2(a))`` with ``a = attn(norm1(x))``
    (:class:`CrossRPEAttention`; ``forward`` takes its arguments, ``keep``
    included).

    Args:
        dim, num_heads, mlp_ratio, qkv_bias, qk_scale, drop, attn_drop, drop_path:
            as :class:`RPEBlock`.
        norm_eps (float): LayerNorm epsilon (1e-6 in AnySat).
        rpe_ratio (float): iRPE ratio. Default 1.9.
        rpe_query_heads (str): ``'own'`` (default) or ``'first'``, see :mod:`.irpe`.
    """

    def __init__(self,
                 dim,
                 num_heads,
                 mlp_ratio=4.0,
                 qkv_bias=True,
                 qk_scale=None,
                 drop=0.0,
                 attn_drop=0.0,
                 drop_path=0.0,
                 norm_eps=1e-6,
                 rpe_ratio=1.9,
                 rpe_query_heads='own'):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = CrossRPEAttention(dim, num_heads, qkv_bias, qk_scale, attn_drop,
                                      drop, rpe_ratio, rpe_query_heads)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self,
                x,
                pos_embed,
                hw_shape: Sequence[int],
                num_blocks: int = 1,
                skip: int = 1,
                keep: Optional[torch.Tensor] = None):
        x = self.drop_path(
            self.attn(self.norm1(x), pos_embed, hw_shape, num_blocks, skip, keep))
        return x + self.drop_path(self.mlp(self.norm2(x)))
