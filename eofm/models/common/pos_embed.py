"""2D sine-cosine positional encodings in patch units scaled to metres (AnySat).

MAE's fixed 2D sin-cos encoding of a ``g x g`` grid gives token ``(i, j)`` (row ``i``,
column ``j``, row-major order) the vector ``[e(j), e(i)]`` where ``e`` is the 1D
encoding of width ``D / 2``: ``e(p) = [sin(p * w_0..w_{D/4-1}), cos(p * w_0..)]`` with
``w_k = 10000 ** (-k / (D / 4))``; the first half encodes the column, the second the row.

AnySat's scale-adaptive encoding (supplementary Eq. A) multiplies the grid coordinates
by ``scale`` (the patch size in metres divided by 10), so that tokens of patches of
different sizes get the encoding of their true distance; ``scale = 1`` is MAE's
encoding. The spatial transformer's variant multiplies by the input resolution (metres
per sub-patch) instead. After AnySat's ``get_2d_sincos_pos_embed_with_scale`` and
``get_2d_sincos_pos_embed_with_resolution`` (``src/models/networks/encoder/utils/
pos_embed.py``, MIT), computed in float32 as there.
"""
from typing import Sequence, Union

import torch

__all__ = [
    'get_1d_sincos_pos_embed', 'get_2d_sincos_pos_embed_with_scale',
    'get_2d_sincos_pos_embed_with_resolution'
]


def get_1d_sincos_pos_embed(embed_dim: int, pos: torch.Tensor) -> torch.Tensor:
    """(M, embed_dim): ``[sin(pos * w), cos(pos * w)]``, ``w_k = 10000^(-2k / embed_dim)``."""
    if embed_dim % 2:
        raise ValueError(f'embed_dim must be even, got {embed_dim}')
    omega = torch.arange(embed_dim // 2, dtype=torch.float32, device=pos.device)
    omega = 1.0 / 10000**(omega / (embed_dim / 2.0))
    out = pos.reshape(-1).float()[:, None] * omega[None]
    return torch.cat([out.sin(), out.cos()], dim=1)


def _grid_embed(embed_dim, height, width, step, num_prefix):
    if embed_dim % 4:
        raise ValueError(f'embed_dim must be a multiple of 4, got {embed_dim}')
    rows = torch.arange(height, dtype=torch.float32).repeat_interleave(width) * step
    cols = torch.arange(width, dtype=torch.float32).repeat(height) * step
    emb = torch.cat([
        get_1d_sincos_pos_embed(embed_dim // 2, cols),
        get_1d_sincos_pos_embed(embed_dim // 2, rows)
    ],
                    dim=1)
    if num_prefix:
        emb = torch.cat([emb.new_zeros(num_prefix, embed_dim), emb], dim=0)
    return emb[None]


def get_2d_sincos_pos_embed_with_scale(embed_dim: int,
                                       grid_size: Union[int, Sequence[int]],
                                       scale: float,
                                       cls_token: bool = False,
                                       num_extra_tokens: int = 0) -> torch.Tensor:
    """Scale-adaptive 2D sin-cos encoding (AnySat supplementary Eq. A).

    Args:
        embed_dim (int): Width D (multiple of 4).
        grid_size (int | (int, int)): Grid side, or (height, width).
        scale (float): Coordinate multiplier: patch size in metres / 10 in AnySat; 1
            gives MAE's ``get_2d_sincos_pos_embed``.
        cls_token (bool): Prepend one zero row (for a cls token).
        num_extra_tokens (int): Further zero rows after it (AnySat's ``modis=True`` is
            one more).

    Returns:
        Tensor: (1, cls_token + num_extra_tokens + H * W, D) float32, row-major grid.
    """
    h, w = (grid_size, grid_size) if isinstance(grid_size, int) else grid_size
    return _grid_embed(embed_dim, h, w, float(scale), int(cls_token) + num_extra_tokens)


def get_2d_sincos_pos_embed_with_resolution(embed_dim: int,
                                            grid_size: int,
                                            resolution: float,
                                            cls_token: bool = False) -> torch.Tensor:
    """AnySat's spatial-transformer encoding of one modality, positions in metres.

    A patch of ``grid_size`` (the scale: patch size in metres / 10) holds
    ``max(1, int(grid_size * 10 / resolution))`` sub-patches per side, each of
    ``resolution`` metres; their coordinates are ``index * resolution``.

    Returns:
        Tensor: (1, cls_token + g * g, D) float32.
    """
    g = max(1, int(grid_size * 10 / resolution))
    return _grid_embed(embed_dim, g, g, float(resolution), int(cls_token))
