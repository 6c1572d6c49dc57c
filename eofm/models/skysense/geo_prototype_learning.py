"""SkySense's unsupervised Geo-Context Prototype Learning (paper Sec. 3.3, Eq. 11-13).

For each sample, the prototypes P_r of its region are compared with its fused
features F_fus^mm by cosine similarity (Eq. 11); Sinkhorn-Knopp turns the
similarities into an assignment S under the uniform constraint; the update value is
the assignment-weighted mean of the (unit-normalised) features, ``P_bar = S^T F``
with S's columns normalised to sum to one (Eq. 12, which the paper writes without
the normalisation: without it the update's scale would depend on the number of
locations); and ``P_r <- m P_r + (1 - m) P_bar`` (Eq. 13). No gradient, no loss term;
student branch only.

Under data parallelism every rank gathers all ranks' (region, P_bar) pairs and
applies the same update: samples of one region in a global batch are averaged into
one P_bar, so the result does not depend on the order of ranks and every rank ends
the step with identical prototypes.
"""
import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_world_size

from ..common.sinkhorn import sinkhorn_knopp

__all__ = ['prototype_updates', 'update_geo_prototypes']


@torch.no_grad()
def prototype_updates(prototypes, features, regions, iterations=3, epsilon=0.05):
    """Per-sample update values P_bar (Eq. 11-12).

    Args:
        prototypes (Tensor): (N_R, N_p, d) bank.
        features (Tensor): (B, d, h, w) F_fus^mm.
        regions (Tensor): (B,) region ids.

    Returns:
        Tensor: (B, N_p, d).
    """
    f = F.normalize(features.flatten(2).transpose(1, 2).float(), dim=-1)  # (B, N_S, d)
    p = F.normalize(prototypes[regions].float(), dim=-1)  # (B, N_p, d)
    sim = f @ p.transpose(1, 2)  # Eq. 11, (B, N_S, N_p)
    s = sinkhorn_knopp(sim, iterations, epsilon)
    s = s / s.sum(dim=1, keepdim=True).clamp_min(1e-12)
    return s.transpose(1, 2) @ f  # Eq. 12, (B, N_p, d)


@torch.no_grad()
def _gather(regions, updates):
    """All ranks' (regions, updates), padded to the largest local batch."""
    if get_world_size() == 1:
        return regions, updates
    n = torch.tensor([regions.numel()], device=regions.device)
    sizes = [int(s.item()) for s in all_gather(n)]
    top = max(sizes)
    pad_r = torch.full((top, ), -1, dtype=regions.dtype, device=regions.device)
    pad_r[:regions.numel()] = regions
    pad_u = updates.new_zeros((top, *updates.shape[1:]))
    pad_u[:updates.shape[0]] = updates
    all_r = torch.cat(all_gather(pad_r))
    all_u = torch.cat(all_gather(pad_u))
    keep = all_r >= 0
    return all_r[keep], all_u[keep]


@torch.no_grad()
def update_geo_prototypes(geo_module,
                          features,
                          lonlat,
                          momentum=0.99,
                          iterations=3,
                          epsilon=0.05):
    """Update ``geo_module.prototypes`` in place from a batch (Eq. 11-13).

    Args:
        geo_module (GeoContextIntegration): Holds the bank and the partition.
        features (Tensor): (B, d, h, w) F_fus^mm of the student.
        lonlat (Tensor): (B, 2) degrees.
        momentum (float): m of Eq. 13.

    Returns:
        Tensor: The region ids updated (all ranks).
    """
    bank = geo_module.prototypes
    regions = geo_module.regions(lonlat)
    updates = prototype_updates(bank, features, regions, iterations, epsilon)
    regions, updates = _gather(regions, updates.to(bank.dtype))
    unique, inverse = torch.unique(regions, return_inverse=True)
    mean = updates.new_zeros((len(unique), *updates.shape[1:]))
    mean.index_add_(0, inverse, updates)
    counts = torch.bincount(inverse, minlength=len(unique)).to(mean.dtype)
    mean /= counts[:, None, None]
    bank.data[unique] = momentum * bank.data[unique] + (1 - momentum) * mean
    return unique
