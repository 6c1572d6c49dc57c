"""OmniSat's aerial (image) patch projector and its index-bypass decoder.

Paper Sec. 3.1 (modality-specific encoders) and Sec. 3.2 (reconstruction): every
``p x p`` patch of the very-high-resolution image (TreeSatAI-TS: 4 bands at 0.2 m, so
50 x 50 px per 10 m patch) is encoded independently by a small residual CNN into one
``d``-dimensional token. The reconstruction decoder mirrors it with ``MaxUnpool2d``
layers that reuse the encoder's max-pool indices (the "index bypass" of the paper's
ablation, Tab. 6) and transposed convolutions, back to ``C x p x p``.

Layout, computation and state-dict keys after OmniSat's ``PatchEmbed(res=True)``
(``src/models/networks/encoder/utils/patch_embeddings.py``) and
``DecoderDeconvAerial`` (``src/models/networks/decoders.py``), MIT:

* ``proj``: ``Conv3x3/2 (+bias) -> BatchNorm2d -> GELU -> MaxPool2`` then
  ``[ResidualBlock -> MaxPool2] x 3``; on a 50 px patch: 50 -> 25 -> 12 -> 6 -> 3 -> 1.
  A ``ResidualBlock`` is ``conv3x3 -> GN -> GELU -> conv3x3 -> GN``, plus the input,
  then GELU, with *one* ``GroupNorm(gp_norm)`` module (``bn``) applied twice, as in
  the reference.
* ``decode``: ``[MaxUnpool2 -> ConvT3x3/1 (no bias)] x 3``, ``MaxUnpool2``,
  ``ConvT3x3/2 (+bias) -> C``; purely linear (no norm, no activation), as in the
  reference. Each unpooling restores the size its max-pool saw (e.g. 12 -> 25).

At d = 256 and 4 bands: projector 3,550,464 parameters, decoder 1,778,692.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from eofm.registry import MODELS

__all__ = ['OmniSatResidualBlock', 'OmniSatAerialProjector', 'OmniSatAerialDecoder']


class OmniSatResidualBlock(nn.Module):
    """``gelu(gn(conv2(gelu(gn(conv1(x))))) + x)`` with one shared ``GroupNorm``."""

    def __init__(self, channels: int, gp_norm: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)
        self.bn = nn.GroupNorm(gp_norm, channels)

    def forward(self, x):
        out = F.gelu(self.bn(self.conv1(x)))
        out = self.bn(self.conv2(out))
        return F.gelu(out + x)


@MODELS.register_module()
class OmniSatAerialProjector(nn.Module):
    """Per-patch residual CNN of the aerial image (paper Sec. 3.1).

    Args:
        in_channels (int): Image bands (4 for TreeSatAI-TS, 5 for FLAIR).
        embed_dim (int): Token width d. Default 256.
        patch_px (int): Pixels per patch side (50: 10 m at 0.2 m). The stride-2 stem
            and four 2x max-pools must reduce it to 1 x 1.
        gp_norm (int): Groups of the residual blocks' ``GroupNorm``. Default 4.

    ``forward(patches)``: ``patches`` (B, N, C, p, p) (e.g. from
    :func:`eofm.models.common.patchify_aligned`). Returns ``(tokens, indices,
    sizes)``: tokens (B, N, d); ``indices`` the four max-pool index maps, deepest
    first; ``sizes`` the spatial sizes the decoder restores, deepest first, then the
    patch size.
    """

    # which entries of ``proj`` are max-pools (their indices feed the decoder)
    MAX_POOLS = (False, False, False, True, False, True, False, True, False, True)

    def __init__(self,
                 in_channels: int = 4,
                 embed_dim: int = 256,
                 patch_px: int = 50,
                 gp_norm: int = 4):
        super().__init__()
        self.in_channels, self.embed_dim, self.patch_px = in_channels, embed_dim, patch_px
        size = (patch_px + 2 - 3) // 2 + 1
        for _ in range(4):
            size //= 2
        if size != 1:
            raise ValueError(
                f'OmniSatAerialProjector: a {patch_px} px patch is reduced '
                f'to {size} x {size}, not 1 x 1 (use 32 to 63 px)')
        layers = [
            nn.Conv2d(in_channels, embed_dim, 3, stride=2, padding=1, bias=True),
            nn.BatchNorm2d(embed_dim),
            nn.GELU(),
            nn.MaxPool2d(2, return_indices=True)
        ]
        for _ in range(3):
            layers += [
                OmniSatResidualBlock(embed_dim, gp_norm),
                nn.MaxPool2d(2, return_indices=True)
            ]
        self.proj = nn.ModuleList(layers)

    def forward(self, patches: torch.Tensor):
        if patches.dim() != 5 or patches.shape[2] != self.in_channels or tuple(
                patches.shape[-2:]) != (self.patch_px, self.patch_px):
            raise ValueError(
                f'OmniSatAerialProjector: expected (B, N, {self.in_channels}, '
                f'{self.patch_px}, {self.patch_px}) patches, got {tuple(patches.shape)}'
            )
        b, n = patches.shape[:2]
        x = patches.flatten(0, 1)
        indices: List[torch.Tensor] = []
        sizes: List[Tuple[int, int]] = [tuple(x.shape[-2:])]
        for layer, is_pool in zip(self.proj, self.MAX_POOLS):
            if is_pool:
                sizes.insert(0, tuple(x.shape[-2:]))
                x, idx = layer(x)
                indices.insert(0, idx)
            else:
                x = layer(x)
        return x.reshape(b, n, self.embed_dim), indices, sizes


@MODELS.register_module()
class OmniSatAerialDecoder(nn.Module):
    """Linear deconvolution decoder with max-pool index bypass (paper Sec. 3.2).

    Args:
        in_channels (int): Bands to reconstruct.
        embed_dim (int): Token width d.

    ``forward(tokens, indices, sizes)``: tokens (B, N, d) and the projector's
    ``indices`` / ``sizes``; returns (B, N, C, p, p).
    """

    UNPOOLS = (True, False, True, False, True, False, True, False)

    def __init__(self, in_channels: int = 4, embed_dim: int = 256):
        super().__init__()
        layers = []
        for _ in range(3):
            layers += [
                nn.MaxUnpool2d(2),
                nn.ConvTranspose2d(embed_dim, embed_dim, 3, 1, padding=1, bias=False)
            ]
        layers += [
            nn.MaxUnpool2d(2),
            nn.ConvTranspose2d(embed_dim, in_channels, 3, 2, padding=1, bias=True)
        ]
        self.decode = nn.ModuleList(layers)

    def forward(self, tokens: torch.Tensor, indices, sizes):
        if len(indices) != 4 or len(sizes) != 5:
            raise ValueError('OmniSatAerialDecoder: needs the 4 index maps and 5 sizes '
                             'of OmniSatAerialProjector')
        b, n, d = tokens.shape
        x = tokens.reshape(b * n, d, 1, 1)
        c = 0
        for layer, is_unpool in zip(self.decode, self.UNPOOLS):
            if is_unpool:
                x = layer(x, indices[c], output_size=sizes[c])
                c += 1
            elif layer is self.decode[-1]:
                x = layer(x, output_size=sizes[-1])
            else:
                x = layer(x)
        return x.reshape(b, n, *x.shape[1:])
