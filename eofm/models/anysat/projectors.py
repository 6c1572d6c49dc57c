"""AnySat's modality projectors: one per sensor, tokens of sub-patches.

AnySat (supplementary Sec. C, "Network Architecture") splits every tile into patches
of ``P`` metres and every patch into sub-patches whose size depends on the sensor; the
projector ``phi^proj_m`` of modality ``m`` maps each sub-patch to a ``D``-dimensional
token, the spatial transformer then summarises the sub-patches of one patch.

* Images (:class:`ImagePatchProjector`, aerial / SPOT / NAIP): a convolution of
  kernel = stride = ``patch_px`` pixels without bias, then the MLP ``[D, 2D, D]`` of
  ``Linear -> LayerNorm -> ReLU`` layers (after AnySat's ``PatchMLPMulti``,
  ``src/models/networks/encoder/utils/patch_embeddings.py``, MIT). Parameter names
  ``patch_embed``, ``mlp.{0,1,3,4}``.
* Time series (:class:`TimeSeriesProjector`, Sentinel-1/2, Landsat, ALOS, MODIS): an
  L-TAE (:class:`eofm.LTAE`) per pixel collapses the dates; one pixel is one
  sub-patch. Missing observations are replaced by the learned scalar
  ``pad_parameter`` (after AnySat's ``PatchLTAEMulti``, ``utils/ltae.py``, MIT).
  Names ``patch_embed.*`` (the L-TAE) and ``pad_parameter``.

Sub-patch order. Within one patch of ``s = P / 10`` ten-metre cells, each cell
holding ``g x g`` image sub-patches, the reference orders an image projector's tokens
as ``(cell row, cell column, sub-patch row in cell, sub-patch column in cell)``, which
is the raster order of the ``sg x sg`` sub-patch grid only when ``s = 1`` or ``g = 1``.
The released weights were trained with that order (positions and relative positions
are assigned by token index), so it is the default (``order='reference'``);
``order='raster'`` gives the geometric order. Time series are always in raster order.
"""
from typing import Optional

import torch
import torch.nn as nn

from ..common.ltae import LTAE

__all__ = ['ImagePatchProjector', 'TimeSeriesProjector', 'subpatch_raster_index']


def subpatch_raster_index(cells: int, per_cell: int, order: str = 'reference'):
    """Raster index (on the ``cells * per_cell`` square grid) of each token index.

    Args:
        cells (int): 10-m cells per patch side (``s``).
        per_cell (int): Sub-patches per cell side (``g``).
        order (str): ``'reference'`` or ``'raster'`` (identity).

    Returns:
        Tensor: (s*g)^2 long, ``out[k]`` = row-major position of token ``k``.
    """
    side = cells * per_cell
    if order == 'raster':
        return torch.arange(side * side)
    if order != 'reference':
        raise ValueError(f"order must be 'reference' or 'raster', got {order!r}")
    si, sj, gi, gj = torch.meshgrid(
        *[torch.arange(n) for n in (cells, cells, per_cell, per_cell)], indexing='ij')
    return ((si * per_cell + gi) * side + sj * per_cell + gj).reshape(-1)


class ImagePatchProjector(nn.Module):
    """Projector of an image modality (after AnySat's ``PatchMLPMulti``, MIT).

    Args:
        in_channels (int): Bands.
        embed_dim (int): Token width D.
        patch_px (int): Sub-patch side in pixels (conv kernel = stride): aerial 10,
            SPOT 10, NAIP 8 in the release.
        bias (bool): Conv bias (False in the release).
        mlp_ratio (int): Hidden width of the MLP / D (2 in the release).

    ``forward(x, side, cells, order)``: ``x`` (B, C, H, W), ``side`` = sub-patches per
    patch side, ``cells`` = 10-m cells per patch side (``side`` divisible by it).
    Returns (B * N, side^2, D), N patches in row-major order.
    """

    def __init__(self, in_channels, embed_dim, patch_px, bias=False, mlp_ratio=2):
        super().__init__()
        self.in_channels, self.patch_px = in_channels, patch_px
        self.patch_embed = nn.Conv2d(
            in_channels, embed_dim, patch_px, stride=patch_px, bias=bias)
        widths = [embed_dim, embed_dim * mlp_ratio, embed_dim]
        layers = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(c_in, c_out), nn.LayerNorm(c_out), nn.ReLU()]
        self.mlp = nn.Sequential(*layers)

    def forward(self, x, side: int, cells: int, order: str = 'reference'):
        y = self.patch_embed(x)
        b, d, hc, wc = y.shape
        per_cell = side // cells
        ph, pw = hc // side, wc // side
        y = y.reshape(b, d, ph, cells, per_cell, pw, cells, per_cell)
        if order == 'reference':
            y = y.permute(0, 2, 5, 3, 6, 4, 7, 1)  # (cell r, cell c, sub r, sub c)
        elif order == 'raster':
            y = y.permute(0, 2, 5, 3, 4, 6, 7, 1)  # (row, col) on the sub-patch grid
        else:
            raise ValueError(f"order must be 'reference' or 'raster', got {order!r}")
        y = y.reshape(b * ph * pw, side * side, d)
        return self.mlp(y)


class TimeSeriesProjector(nn.Module):
    """Projector of a time-series modality: per-pixel L-TAE (after AnySat's
    ``PatchLTAEMulti``, MIT).

    Args:
        in_channels (int): Bands per date.
        embed_dim (int): Token width D; the L-TAE's input MLP is
            ``[D/8, D/2, D, 2D, D]`` and its output MLP ``[D]``, GroupNorm(4) in both.
        n_head (int): L-TAE heads (16). d_k (int): key width (8).
        T (float): Period of the date encoding (367; 366 for Landsat 8).
        dropout (float): L-TAE dropout (0 for S2 / L8, 0.2 otherwise).
        in_norm (bool): GroupNorm after the input MLP (S2 only).

    ``forward(x, dates, pixels, mask=None)``: ``x`` (B, T, C, H, W), ``dates`` (B, T)
    day of year, ``pixels`` = pixels per patch side (None: the whole tile is one
    patch, AnySat's tile-level MODIS token), ``mask`` broadcastable to ``x``, True /
    1 where observed (the reference's convention); missing values become
    ``pad_parameter``. Returns (B * N, L, D).
    """

    def __init__(self,
                 in_channels,
                 embed_dim,
                 n_head=16,
                 d_k=8,
                 T=367,
                 dropout=0.2,
                 in_norm=False,
                 attn_dropout=0.1):
        super().__init__()
        self.in_channels = in_channels
        d = embed_dim
        self.patch_embed = LTAE(
            in_channels=in_channels,
            n_head=n_head,
            d_k=d_k,
            mlp_in=[d // 8, d // 2, d, 2 * d, d],
            mlp=[d],
            dropout=dropout,
            attn_dropout=attn_dropout,
            T=T,
            in_norm=in_norm,
            norm='gn',
            mlp_groups=4,
            pad_value=False,
            mask_attention=False)
        self.pad_parameter = nn.Parameter(torch.tensor(0.0))

    def forward(self,
                x,
                dates,
                pixels: Optional[int] = None,
                mask: Optional[torch.Tensor] = None):
        if mask is not None:
            x = torch.where(mask.bool(), x, self.pad_parameter.to(x.dtype))
        y = self.patch_embed(x, dates)  # (B, D, H, W)
        b, d, h, w = y.shape
        if pixels is None:
            return y.flatten(2).transpose(1, 2)  # (B, H * W, D): one patch
        y = y.reshape(b, d, h // pixels, pixels, w // pixels, pixels)
        y = y.permute(0, 2, 4, 3, 5, 1)
        return y.reshape(b * (h // pixels) * (w // pixels), pixels * pixels, d)
