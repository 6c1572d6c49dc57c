"""A neck that turns token encoders' outputs into what mmpretrain / mmseg heads take.

Multi-modal patch encoders such as :class:`eofm.OmniSat` and :class:`eofm.AnySat`
give one token per metric patch of the tile, in layouts that the host libraries'
heads do not read directly:

* OmniSat (``out_type='tuple'``): ``(patch_tokens (B, N, D), tile_token (B, D))``;
* AnySat: a single channel-last tensor, ``'patch'`` (B, gh, gw, D), ``'dense'``
  (B, gh * s, gw * s, 2 D), ``'all'`` (B, 1 + N, D, the cls token first) or
  ``'tile'`` (B, D).

:class:`TokensToMap` gives either a 1-tuple ``(B, D)`` pooled vector (mmpretrain
classification heads read ``feats[-1]``) or a 1-tuple ``(B, D, gh, gw)`` map
(mmseg decode heads, ``in_index=-1``).
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from eofm.registry import MODELS

__all__ = ['TokensToMap']


@MODELS.register_module()
class TokensToMap(nn.Module):
    """Reshape / pool patch tokens for classification or dense heads.

    Args:
        out_type (str): ``'map'``: a (B, D, gh, gw) feature map; ``'pooled'``: a
            (B, D) vector.
        pool (str): How ``'pooled'`` reduces the tokens: ``'mean'`` or ``'max'``
            over the patches, or ``'tile'``: the encoder's tile (cls) token (the
            second element of a tuple input, or the first token of a
            ``cls_token=True`` sequence). Default ``'mean'``.
        token_index (int): Which element of a tuple / list input holds the patch
            tokens. Default 0.
        tile_index (int): Which element of a tuple / list input holds the tile token
            (``pool='tile'``). Default 1.
        cls_token (bool): A (B, 1 + N, D) sequence input starts with a cls token
            (AnySat ``output='all'``): it is split off. Default False.
        grid (Sequence[int], optional): (gh, gw) of a (B, N, D) sequence; default a
            square grid (N must be a square).

    Inputs accepted (a tensor or a tuple / list of tensors):

    * (B, N, D) token sequences (row-major patches);
    * (B, gh, gw, D) channel-last maps;
    * (B, D) vectors (already pooled; only ``out_type='pooled'``).
    """

    def __init__(self,
                 out_type: str = 'map',
                 pool: str = 'mean',
                 token_index: int = 0,
                 tile_index: int = 1,
                 cls_token: bool = False,
                 grid: Optional[Sequence[int]] = None):
        super().__init__()
        if out_type not in ('map', 'pooled'):
            raise ValueError(f"TokensToMap: out_type must be 'map' or 'pooled', got "
                             f'{out_type!r}')
        if pool not in ('mean', 'max', 'tile'):
            raise ValueError(f"TokensToMap: pool must be 'mean', 'max' or 'tile', got "
                             f'{pool!r}')
        if grid is not None and len(grid) != 2:
            raise ValueError(f'TokensToMap: grid must be (gh, gw), got {grid}')
        self.out_type, self.pool = out_type, pool
        self.token_index, self.tile_index = token_index, tile_index
        self.cls_token = cls_token
        self.grid = None if grid is None else (int(grid[0]), int(grid[1]))

    def _split(self, inputs) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """(patch tokens, tile token or None) of the encoder output."""
        tile = None
        if isinstance(inputs, (tuple, list)):
            if not inputs:
                raise ValueError('TokensToMap: empty input')
            x = inputs[self.token_index]
            if len(inputs) > 1 and -len(inputs) <= self.tile_index < len(inputs) \
                    and self.tile_index != self.token_index:
                tile = inputs[self.tile_index]
        else:
            x = inputs
        if not torch.is_tensor(x):
            raise TypeError(f'TokensToMap: expected tensors, got {type(x)}')
        if self.cls_token:
            if x.dim() != 3:
                raise ValueError('TokensToMap: cls_token=True needs (B, 1 + N, D) '
                                 f'tokens, got {tuple(x.shape)}')
            tile, x = x[:, 0], x[:, 1:]
        return x, tile

    def _to_map(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # channel-last (B, gh, gw, D)
            return x.permute(0, 3, 1, 2).contiguous()
        if x.dim() != 3:
            raise ValueError(f'TokensToMap: cannot make a map of {tuple(x.shape)}')
        b, n, d = x.shape
        if self.grid is not None:
            gh, gw = self.grid
        else:
            gh = gw = int(round(math.sqrt(n)))
        if gh * gw != n:
            raise ValueError(f'TokensToMap: {n} tokens do not fill a {gh} x {gw} grid '
                             '(give grid=(gh, gw))')
        return x.transpose(1, 2).reshape(b, d, gh, gw)

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]):
        x, tile = self._split(inputs)
        if self.out_type == 'map':
            if x.dim() == 2:
                raise ValueError('TokensToMap: a (B, D) vector has no spatial map')
            return (self._to_map(x), )
        if x.dim() == 2:  # already pooled
            return (x, )
        if self.pool == 'tile':
            if tile is None:
                raise ValueError("TokensToMap: pool='tile' needs the tile token (a "
                                 '(patch_tokens, tile) tuple or cls_token=True)')
            return (tile, )
        tokens = x.flatten(1, -2)  # (B, N, D) for sequences and channel-last maps
        if self.pool == 'mean':
            return (tokens.mean(dim=1), )
        return (tokens.amax(dim=1), )
