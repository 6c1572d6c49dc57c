"""Batched Sinkhorn-Knopp assignment (SwAV's equipartition), local to each matrix."""
import math

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
    # In the log domain: exp(score / epsilon) underflows for sharp scores.
    log_q = scores.float() / epsilon
    n, k = log_q.shape[-2:]
    log_n, log_k = math.log(n), math.log(k)
    for _ in range(iterations):
        log_q = log_q - torch.logsumexp(log_q, dim=-2, keepdim=True) - log_k  # cols
        log_q = log_q - torch.logsumexp(log_q, dim=-1, keepdim=True) - log_n  # rows
    return torch.exp(log_q + log_n)
