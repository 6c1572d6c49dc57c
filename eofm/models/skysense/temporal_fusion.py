"""SkySense's multi-modal temporal fusion transformer (paper Sec. 3.2, Eq. 1-2).

At every location of the common feature grid, the tokens of all modalities and dates
form one sequence ``F_T = [HR, S2 dates, S1 dates]`` (Eq. 1). The date-specific
temporal positional encoding ``P_DTPE`` (a learnable 365 x C table indexed by day of
year) is added to the dated tokens (Eq. 2; the release adds it to the Sentinel-2
tokens only, ``date_encoding='s2'``), a shared linear layer projects them to the
fusion width (2816 -> 1024; ``porj_linear``, the release's spelling), an extra token
is prepended, and pre-norm transformer layers mix the sequence; the extra token's
output is ``F_fus^mm`` (B, 1024, H, W).

The layers keep the key names of mmseg's ``TransformerEncoderLayer`` (``ln1``,
``attn.attn.in_proj_weight``, ``ffn.layers.0.0``...) so that
``skysense_model_fusion.pth`` loads unchanged, but are eofm's own: mmseg's layer takes
no key-padding mask (padded dates must not be attended to) and does not use
``scaled_dot_product_attention``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch.utils.checkpoint import checkpoint

from eofm.registry import MODELS
from ..common.pretrained import load_pretrained, pretrained_init_cfg

__all__ = ['MultiModalTemporalFusion', 'FusionLayer', 'date_table_lookup']


def date_table_lookup(table, doy):
    """Rows of a (1, 365, C) date table for days of year ``doy`` (any shape).

    Day 366 (31 December of a leap year) uses the row of day 365. Values must be
    in 1..366 (callers mask padding, day 0, themselves).
    """
    idx = doy.long().clamp(1, 365) - 1
    return table[0, idx]


class _QKVAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names."""

    def __init__(self, dims, num_heads, qkv_bias=True, attn_drop=0.0):
        super().__init__()
        self.num_heads, self.attn_drop = num_heads, attn_drop
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dims, dims))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dims)) if qkv_bias else None
        self.out_proj = nn.Linear(dims, dims)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x, key_padding_mask=None):
        n, length, dims = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.view(n, length, 3, self.num_heads, dims // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        mask = None
        if key_padding_mask is not None:  # True = ignore, as in nn.MultiheadAttention
            mask = ~key_padding_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.attn_drop if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(n, length, dims))


class _AttnBlock(nn.Module):
    """Holds the attention as ``attn.attn`` (mmcv's wrapper nesting of the keys)."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.attn = _QKVAttention(*args, **kwargs)

    def forward(self, x, key_padding_mask=None):
        return self.attn(x, key_padding_mask)


class _FFN(nn.Module):
    """Linear-GELU-Linear with mmcv FFN's keys (``layers.0.0``, ``layers.1``)."""

    def __init__(self, dims, hidden, drop=0.0):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(drop)),
            nn.Linear(hidden, dims), nn.Dropout(drop))

    def forward(self, x):
        return self.layers(x)


class FusionLayer(nn.Module):
    """Pre-norm transformer encoder layer with a key-padding mask."""

    #: One FSDP unit (:func:`eofm.skysense_block_wrap_policy`).
    fsdp_wrap = True

    def __init__(self,
                 dims,
                 num_heads,
                 mlp_ratio=4,
                 qkv_bias=True,
                 drop=0.0,
                 attn_drop=0.0,
                 drop_path=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(dims)
        self.attn = _AttnBlock(dims, num_heads, qkv_bias, attn_drop)
        self.ln2 = nn.LayerNorm(dims)
        self.ffn = _FFN(dims, int(dims * mlp_ratio), drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x, key_padding_mask=None):
        x = x + self.drop_path(self.attn(self.ln1(x), key_padding_mask))
        return x + self.drop_path(self.ffn(self.ln2(x)))


@MODELS.register_module()
class MultiModalTemporalFusion(nn.Module):
    """Fuse per-location multi-modal, multi-temporal tokens (see module docstring).

    Args:
        in_channels (int): Token width (the HR encoder's last stage, 2816).
        embed_dims (int): Fusion width (1024).
        num_layers (int): Transformer layers (24).
        num_heads (int): Attention heads (16).
        mlp_ratio (float): FFN expansion (4).
        drop_path_rate (float): Stochastic depth, linearly up to this (0.3).
        max_tokens (int, optional): Longest allowed token sequence per location
            (without the extra token); longer inputs raise an error.
        with_date_table (bool): Own the date table ``ctpe`` (1, 365, in_channels)
            of Eq. 2, the one place it lives in eofm (the release stores it in the
            Sentinel-2 file; :class:`eofm.SkySense` maps it here).
        with_cp (bool): Activation checkpointing of every layer.
        chunk_size (int, optional): Locations per pass (bounds attention memory).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``.
    """

    def __init__(self,
                 in_channels=2816,
                 embed_dims=1024,
                 num_layers=24,
                 num_heads=16,
                 mlp_ratio=4,
                 qkv_bias=True,
                 drop_rate=0.0,
                 attn_drop_rate=0.0,
                 drop_path_rate=0.3,
                 max_tokens=None,
                 with_date_table=False,
                 with_cp=False,
                 chunk_size=None,
                 init_cfg=None):
        super().__init__()
        self.in_channels, self.embed_dims = in_channels, embed_dims
        self.max_tokens, self.with_cp, self.chunk_size = max_tokens, with_cp, chunk_size
        self.init_cfg = init_cfg
        self.porj_linear = nn.Linear(in_channels, embed_dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.layers = nn.ModuleList([
            FusionLayer(embed_dims, num_heads, mlp_ratio, qkv_bias, drop_rate,
                        attn_drop_rate, dpr[i]) for i in range(num_layers)
        ])
        if with_date_table:
            self.ctpe = nn.Parameter(torch.zeros(1, 365, in_channels))

    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is not None:
            load_pretrained(
                self,
                pretrained[0],
                pretrained[1] or 'backbone',
                allow_missing=(r'ctpe$', ))
            return
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        if hasattr(self, 'ctpe'):
            nn.init.trunc_normal_(self.ctpe, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _check(self, tokens, doy, valid):
        if tokens.dim() != 5 or tokens.shape[2] != self.in_channels:
            raise ValueError(f'MultiModalTemporalFusion: tokens must be (B, N, '
                             f'{self.in_channels}, H, W), got {tuple(tokens.shape)}')
        n = tokens.shape[1]
        if self.max_tokens is not None and n > self.max_tokens:
            raise ValueError(f'MultiModalTemporalFusion: {n} tokens per location, more '
                             f'than max_tokens={self.max_tokens} (sample fewer dates '
                             'with TemporalSample or raise max_tokens)')
        for name, t in (('doy', doy), ('valid', valid)):
            if t is not None and tuple(t.shape) != tuple(tokens.shape[:2]):
                raise ValueError(f'MultiModalTemporalFusion: {name} must be (B, N) = '
                                 f'{tuple(tokens.shape[:2])}, got {tuple(t.shape)}')
        if doy is not None and ((doy < 0) | (doy > 366)).any():
            bad = doy[(doy < 0) | (doy > 366)][:5].tolist()
            raise ValueError(f'MultiModalTemporalFusion: days of year must be in '
                             f'1..366 (0 for undated/padded), got {bad}')

    def _run_layers(self, x, pad):
        for layer in self.layers:
            if self.with_cp and x.requires_grad:
                x = checkpoint(layer, x, pad, use_reentrant=False)
            else:
                x = layer(x, pad)
        return x

    def forward(self, tokens, doy=None, valid=None):
        """Fuse ``tokens`` (B, N, C, H, W) into ``F_fus^mm`` (B, D, H, W).

        Args:
            tokens (Tensor): Per-date features on one grid, e.g. [HR, S2..., S1...].
            doy (Tensor, optional): (B, N) day of year of each token that gets the
                date encoding; 0 for tokens without it (HR, padding, or the
                modalities the encoding is not applied to).
            valid (Tensor, optional): (B, N) bool, False for padded dates and
                missing modalities (masked out of attention).
        """
        self._check(tokens, doy, valid)
        b, n, c, h, w = tokens.shape
        x = tokens.permute(0, 3, 4, 1, 2).reshape(b * h * w, n, c)
        table = getattr(self, 'ctpe', None)
        if doy is not None and table is not None:
            enc = date_table_lookup(table, doy) * (doy > 0)[..., None].to(x.dtype)
            x = x + enc.repeat_interleave(h * w, dim=0)
        x = self.porj_linear(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        pad = None
        if valid is not None:
            pad = torch.cat([torch.zeros_like(valid[:, :1]), ~valid.bool()], dim=1)
            pad = pad.repeat_interleave(h * w, dim=0)
        if self.chunk_size:
            parts = [
                self._run_layers(xc, None if pad is None else pc)[:, 0]
                for xc, pc in zip(
                    x.split(self.chunk_size), (
                        pad if pad is not None else x).split(self.chunk_size))
            ]
            out = torch.cat(parts)
        else:
            out = self._run_layers(x, pad)[:, 0]
        return out.view(b, h, w, self.embed_dims).permute(0, 3, 1, 2).contiguous()
