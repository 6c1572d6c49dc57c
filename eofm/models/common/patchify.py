"""Split spatially aligned modalities into one common grid of metric patches.

OmniSat and AnySat tokenise every modality of a tile on the same grid of patches
(e.g. 10 m or 60 m patches of a 60 m x 60 m TreeSatAI-TS tile): the aerial image at
0.2 m gives 50 x 50 pixels per 10 m patch, Sentinel-2 at 10 m gives one pixel. A
patch size that does not divide the tile, or a ground sampling distance (GSD) that
does not divide the patch, has no consistent grid: both are errors naming the
modality.
"""
from typing import Dict, Mapping, Tuple

import torch

__all__ = ['patchify_aligned', 'pixels_per_patch', 'gather_patches']

_TOL = 1e-6


def _exact_ratio(numerator, denominator):
    """``numerator / denominator`` as an int when it is one (floating-point tolerant)."""
    ratio = numerator / denominator
    nearest = round(ratio)
    if nearest < 1 or abs(ratio - nearest) > _TOL * max(1.0, abs(ratio)):
        return None
    return int(nearest)


def pixels_per_patch(gsd: float, patch_size: float, name: str = 'input') -> int:
    """Pixels per patch side for a GSD and a patch size, both in metres."""
    if gsd <= 0 or patch_size <= 0:
        raise ValueError(
            f'{name}: GSD ({gsd}) and patch size ({patch_size}) must be > 0')
    px = _exact_ratio(patch_size, gsd)
    if px is None:
        raise ValueError(f'{name}: the GSD {gsd} m does not divide the patch size '
                         f'{patch_size} m')
    return px


def patchify_aligned(
        inputs: Mapping[str, torch.Tensor], gsd: Mapping[str, float],
        patch_size: float) -> Tuple[Dict[str, torch.Tensor], Tuple[int, int]]:
    """Split every modality into the same grid of ``patch_size``-metre patches.

    Args:
        inputs (Mapping[str, Tensor]): Per modality a tensor (B, ..., H, W) whose last
            two dims are rows and columns (e.g. (B, C, H, W) images, (B, T, C, H, W)
            time series). All cover the same tile.
        gsd (Mapping[str, float]): Metres per pixel of each modality.
        patch_size (float): Patch side in metres.

    Returns:
        tuple: ``(patches, (gh, gw))`` with ``patches[name]`` of shape
        (B, gh * gw, ..., p, p), ``p = patch_size / gsd[name]`` and the patches in
        row-major order of the common ``gh x gw`` grid.

    Raises:
        ValueError: naming the modality, when its GSD does not divide the patch size,
            the patch size does not divide its tile, or its tile extent (pixels x GSD)
            differs from the others'.
    """
    if not inputs:
        raise ValueError('no modality to patchify')
    patches, grid, extent = {}, None, None
    for name, x in inputs.items():
        if name not in gsd:
            raise KeyError(f'{name}: no GSD given')
        if x.dim() < 3:
            raise ValueError(f'{name}: expected (B, ..., H, W), got {tuple(x.shape)}')
        p = pixels_per_patch(gsd[name], patch_size, name)
        h, w = x.shape[-2:]
        tile = (h * gsd[name], w * gsd[name])
        if h % p or w % p:
            raise ValueError(
                f'{name}: the patch size {patch_size} m does not divide the '
                f'tile of {tile[0]:g} m x {tile[1]:g} m ({h} x {w} px at '
                f'{gsd[name]} m)')
        if extent is not None and any(
                abs(a - b) > _TOL * max(1.0, a) for a, b in zip(tile, extent)):
            raise ValueError(
                f'{name}: tile of {tile[0]:g} m x {tile[1]:g} m differs from '
                f'the other modalities\' {extent[0]:g} m x {extent[1]:g} m')
        extent, grid = tile, (h // p, w // p)
        b, mid = x.shape[0], x.shape[1:-2]
        y = x.reshape(b, -1, grid[0], p, grid[1], p)
        y = y.permute(0, 2, 4, 1, 3, 5).reshape(b, grid[0] * grid[1], *mid, p, p)
        patches[name] = y
    return patches, grid


def gather_patches(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The tokens of some patches of each sample: x (B, N, D), idx (B, K) -> (B, K, D)."""
    return torch.gather(x, 1, idx[..., None].expand(-1, -1, x.shape[-1]))
