"""Batched Sinkhorn-Knopp assignment (SwAV's equipartition), local to each matrix."""
import torch

__all__ = ['sinkhorn_knopp']


@torch.no_grad()
def sinkhorn_knopp(scores, iterations=3, epsilon=0.05):
    """Soft assignments of N items to K slots with equal slot mass, per matrix.

    SkySense assigns the pixel features of one image to its clusters (object-level
    contrast, Eq. 6) and of one sample to its region's prototypes (Eq. 11-12) under
    the uniform constraint. mmpretrain's ``distributed_sinkhorn`` normalises over the
    whole data-parallel batch with collectives (one per call, and an extra one only
    on a rank that meets an all-zero row, which can deadlock) and handles one matrix
    per call; these assignments are per image, so eofm solves them locally and
    batched.

    Args:
        scores (Tensor): (..., N, K) similarities (e.g. cosine).
        iterations (int): Sinkhorn iterations.
        epsilon (float): Entropic regularisation (temperature of ``exp``).

    Returns:
        Tensor: (..., N, K) assignments; every row sums to 1 and every column to
        N / K (the uniform constraint).
    """
    q = (scores.float() - scores.float().amax(dim=(-2, -1), keepdim=True)) / epsilon
    q = q.exp()
    n, k = q.shape[-2:]
    q = q / q.sum(dim=(-2, -1), keepdim=True)
    for _ in range(iterations):
        q = q / q.sum(dim=-2, keepdim=True).clamp_min(1e-12) / k  # columns: 1 / K
        q = q / q.sum(dim=-1, keepdim=True).clamp_min(1e-12) / n  # rows: 1 / N
    return q * n
