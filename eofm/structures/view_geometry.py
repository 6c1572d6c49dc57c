"""Where the pixels of an augmented view lie on the loaded footprint.

Spatial augmentations (crops, flips, rotations) of a multi-modal sample record one
affine map ``A`` (3 x 3, homogeneous) from the view's normalised coordinates
``(u, v)`` in [0, 1]^2 (x right, y down) to the footprint's normalised
coordinates. Two views of the same sample are then comparable pixel by pixel:
SkySense's pixel-level contrastive loss (paper Sec. 3.3, Eq. 4) pairs the feature
cells of two views that cover the same ground, which :func:`match_views` computes.
"""
import numpy as np

__all__ = [
    'identity_geometry', 'crop_geometry', 'flip_geometry', 'rot90_geometry',
    'footprint_coords', 'match_views'
]


def identity_geometry():
    return np.eye(3)


def crop_geometry(x0, y0, x1, y1):
    """View -> previous view for a crop of the normalised box (x0, y0, x1, y1)."""
    return np.array([[x1 - x0, 0.0, x0], [0.0, y1 - y0, y0], [0.0, 0.0, 1.0]])


def flip_geometry(direction):
    """'horizontal' mirrors x, 'vertical' mirrors y."""
    if direction == 'horizontal':
        return np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if direction == 'vertical':
        return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 1.0], [0.0, 0.0, 1.0]])
    raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")


def rot90_geometry(k):
    """``np.rot90(a, k, axes=(-2, -1))``: a view pixel (u, v) shows (1 - v, u) for k=1."""
    one = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return np.linalg.matrix_power(one, k % 4)


def footprint_coords(geometry, height, width):
    """(H, W, 2) footprint coordinates (x, y) of the centres of a view's pixels."""
    v, u = np.meshgrid(
        (np.arange(height) + 0.5) / height, (np.arange(width) + 0.5) / width,
        indexing='ij')
    uv1 = np.stack([u, v, np.ones_like(u)], axis=-1)
    return (uv1 @ np.asarray(geometry, dtype=np.float64).T)[..., :2]


def match_views(geometry_a, geometry_b, size_a, size_b):
    """Pairs of cells of two views that show the same ground.

    Args:
        geometry_a, geometry_b: The views' 3 x 3 maps to the footprint.
        size_a, size_b (tuple): (H, W) grids of the two views (e.g. feature maps).

    Returns:
        tuple[np.ndarray, np.ndarray]: Flat indices into grid A and grid B: cell
        ``idx_a[i]``'s centre falls in cell ``idx_b[i]``. Cells of A outside view B
        have no pair.
    """
    xy = footprint_coords(geometry_a, *size_a).reshape(-1, 2)
    xy1 = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)
    uv = (xy1 @ np.linalg.inv(np.asarray(geometry_b, dtype=np.float64)).T)[:, :2]
    eps = 1e-9
    inside = (uv[:, 0] >= -eps) & (uv[:, 0] < 1 - eps) & (uv[:, 1] >= -eps) \
        & (uv[:, 1] < 1 - eps)
    hb, wb = size_b
    col = np.clip(np.floor(uv[:, 0] * wb + eps), 0, wb - 1).astype(np.int64)
    row = np.clip(np.floor(uv[:, 1] * hb + eps), 0, hb - 1).astype(np.int64)
    idx_a = np.nonzero(inside)[0]
    return idx_a, (row * wb + col)[inside]
