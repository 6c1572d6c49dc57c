"""SkySense's Cross-Modal Alignment loss (paper Eq. 10)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from eofm.registry import MODELS

__all__ = ['CrossModalAlignmentLoss']


@MODELS.register_module()
class CrossModalAlignmentLoss(nn.Module):
    """Multi-modal InfoNCE between the features of two modalities.

    ``L_align = sum_{i != j} L_MMCL(F_i, F_j)``: the feature of modality i at a
    location must be most similar to modality j's feature at the same location among
    all locations in the batch (symmetric cross-entropy over cosine similarities /
    temperature, as CLIP). Computed on the student branch.

    Args:
        temperature (float): Softmax temperature (0.1).
        max_pixels (int, optional): Random subset of locations per call (the
            similarity matrix is max_pixels^2).
    """

    def __init__(self, temperature=0.1, max_pixels=1024):
        super().__init__()
        self.temperature, self.max_pixels = temperature, max_pixels

    def forward(self, a, b, valid=None):
        """``a``, ``b``: (N, d) features at the same N locations; ``valid`` (N,) bool."""
        if valid is not None:
            a, b = a[valid], b[valid]
        n = a.shape[0]
        if n < 2:
            return a.sum() * 0.0
        if self.max_pixels and n > self.max_pixels:
            idx = torch.randperm(n, device=a.device)[:self.max_pixels]
            a, b = a[idx], b[idx]
        a, b = F.normalize(a.float(), dim=-1), F.normalize(b.float(), dim=-1)
        logits = a @ b.t() / self.temperature
        target = torch.arange(a.shape[0], device=a.device)
        return (F.cross_entropy(logits, target) +
                F.cross_entropy(logits.t(), target)) / 2
