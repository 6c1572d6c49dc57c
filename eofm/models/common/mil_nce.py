"""OmniSat's patch-level multi-modal contrastive loss (MIL-NCE, paper Eq. 3).

For the token ``f_p^m`` of patch ``p`` in modality ``m``, the positives are the same
patch in every other modality, ``{f_p^n, n != m}``; the denominator runs over all tokens
of the batch except ``T(m, p)``, the tokens of the same tile in the same modality (the
block-diagonal exclusion of the paper's Fig. 4: the other patches of one's own tile and
modality are neither positives nor negatives, and neither is the token itself).
Similarities are cosines over a temperature ``tau`` (0.1)::

    L = 1 / (M |B|) * sum_{m, p} [ logsumexp_{(n, q) not in T(m, p)} <f_p^m, f_q^n> / tau
                                   - logsumexp_{n != m} <f_p^m, f_p^n> / tau ]

(Eq. 3 with the sign that makes it a loss to minimise). The computation follows
OmniSat's ``MILNCE`` (``src/models/losses.py``, MIT): cosine similarity with the norm
product clamped at 1e-8, positives included in the denominator, mean over all
``M * B * N`` tokens. AnySat uses the same loss on its per-modality patch tokens.
"""
from typing import Sequence, Union

import torch
import torch.nn as nn

from eofm.registry import MODELS

__all__ = ['MILNCELoss']


@MODELS.register_module()
class MILNCELoss(nn.Module):
    """MIL-NCE over the patch tokens of M aligned modalities (OmniSat Eq. 3).

    Args:
        tau (float): Temperature. Default 0.1.
        loss_weight (float): Multiplier of the loss. Default 1.0.

    ``forward(tokens)``: ``tokens`` (B, M, N, D) (B tiles, M modalities, N patches) or a
    sequence of M tensors (B, N, D). Returns a scalar. Needs M >= 2.
    """

    def __init__(self, tau: float = 0.1, loss_weight: float = 1.0):
        super().__init__()
        self.tau, self.loss_weight = tau, loss_weight

    def forward(self, tokens: Union[torch.Tensor,
                                    Sequence[torch.Tensor]]) -> torch.Tensor:
        if not torch.is_tensor(tokens):
            tokens = torch.stack(list(tokens), dim=1)
        if tokens.dim() != 4:
            raise ValueError(f'tokens must be (B, M, N, D), got {tuple(tokens.shape)}')
        b, m, n, d = tokens.shape
        if m < 2:
            raise ValueError(f'MIL-NCE needs at least 2 modalities, got {m}')
        # rows ordered (modality, tile, patch) as in the reference
        feats = tokens.float().transpose(0, 1).reshape(m * b * n, d)
        norms = feats.norm(p=2, dim=1, keepdim=True)
        logits = (feats @ feats.t()) / (norms * norms.t()).clamp(min=1e-8) / self.tau
        mod = torch.arange(m, device=feats.device).repeat_interleave(b * n)
        tile = torch.arange(b, device=feats.device).repeat_interleave(n).repeat(m)
        patch = torch.arange(n, device=feats.device).repeat(m * b)
        same_block = (mod[:, None] == mod[None]) & (tile[:, None] == tile[None])
        positive = (~(mod[:, None] == mod[None])) & (tile[:, None] == tile[None]) & (
            patch[:, None] == patch[None])
        neg_inf = torch.finfo(logits.dtype).min
        denominator = logits.masked_fill(same_block, neg_inf).logsumexp(dim=1)
        numerator = logits.masked_fill(~positive, neg_inf).logsumexp(dim=1)
        return self.loss_weight * (denominator - numerator).mean()
