"""Sparsely gated Mixture-of-Experts FFN of msGFM (paper Sec. 3.4, Table 10).

msGFM replaces MLP layers of its shared Swin encoder by a sparsely gated MoE
(Shazeer et al. 2017, the paper's [53]) with 8 experts, top-1 routing, capacity
factor 1.25 and an auxiliary load-balancing loss of weight lambda = 0.01
(L = L_MIM + lambda * L_aux). The paper cites Tutel [30] and V-MoE [47] for the
auxiliary loss; both use the *importance + load* loss, which is the default here:

* router: ``G(x) = TopK(softmax(W x + eps))``, ``eps ~ N(0, (noise_std / E)^2)``
  during training (V-MoE Eq. 2, Tutel's ``gate_noise``);
* importance loss: ``CV(imp)^2`` with ``imp_e = sum_x softmax(W x)_e``;
* load loss: ``CV(load)^2`` with ``load_e = sum_x P(W x_e + eps' >= t_k(x))``,
  ``t_k`` the k-th largest noisy logit of the token, the probability a normal CDF
  (V-MoE Appendix A);
* ``aux = (CV(imp)^2 + CV(load)^2) / 2``: 0 at its minimum (a balanced router).

``aux_loss='switch'`` gives the Switch-Transformer loss ``E * sum_e f_e * P_e``
(``f_e`` the fraction of tokens whose first choice is ``e``, ``P_e`` the mean
router probability), whose minimum is 1.

Gates: with ``k > 1`` the top-k probabilities are renormalised to sum to 1 (Tutel's
``normalize_gate``); with ``k = 1`` renormalising would make every gate exactly 1
and cut the router off from the task gradient, so by default (``normalize_gates=
None``) the top-1 gate keeps its softmax probability (V-MoE, Switch).
All experts live on every process (no expert parallelism); with
``capacity_factor`` set, an expert keeps at most ``ceil(cf * k * N / E)`` tokens,
those with the largest gates first (Tutel's batch-prioritised routing); dropped
assignments contribute nothing (the block's residual carries the token).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule

from eofm.registry import MODELS

__all__ = ['MoEMlp']

AUX_LOSSES = ('importance_load', 'switch')


def _cv_squared(x, eps=1e-10):
    """Squared coefficient of variation of a 1-D tensor (0 when uniform)."""
    x = x.float()
    if x.numel() <= 1:
        return x.new_zeros(())
    return x.var(unbiased=False) / (x.mean()**2 + eps)


@MODELS.register_module()
class MoEMlp(BaseModule):
    """Sparsely gated Mixture-of-Experts MLP (see the module docstring).

    Args:
        embed_dims (int): Token channels (input and output).
        feedforward_channels (int): Hidden channels of each expert.
        num_experts (int): E, 8 in msGFM.
        top_k (int): Experts per token, 1 in msGFM (Table 10).
        noisy_gating (bool): Add router noise during training (V-MoE / Tutel).
        noise_std (float): Noise std before division by E (Tutel's
            ``gate_noise``, 1.0).
        normalize_gates (bool, optional): Renormalise the top-k gates to sum to 1;
            None: only when ``top_k > 1``.
        capacity_factor (float, optional): Per-expert capacity factor (1.25 in
            msGFM); None: no token is dropped.
        aux_loss (str): 'importance_load' (default) or 'switch'.
        ffn_drop (float): Dropout inside and after each expert.
        act_cfg (dict): Activation of the experts.
        init_cfg (dict, optional): mmengine init config.

    ``forward(x)`` takes (..., C) tokens and returns the same shape; the auxiliary
    loss of that call is kept in ``self.aux_loss`` (a scalar tensor) and the last
    routing in ``self.last_routing`` (``indices`` (N, k), ``gates`` (N, k),
    ``probs`` (N, E)) for inspection.
    """

    def __init__(self,
                 embed_dims,
                 feedforward_channels,
                 num_experts=8,
                 top_k=1,
                 noisy_gating=True,
                 noise_std=1.0,
                 normalize_gates=None,
                 capacity_factor=None,
                 aux_loss='importance_load',
                 ffn_drop=0.,
                 act_cfg=dict(type='GELU'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not 1 <= top_k <= num_experts:
            raise ValueError(f'MoEMlp: top_k must be in [1, num_experts={num_experts}]'
                             f', got {top_k}')
        if aux_loss not in AUX_LOSSES:
            raise ValueError(f'MoEMlp: aux_loss must be one of {AUX_LOSSES}, got '
                             f'{aux_loss!r}')
        if capacity_factor is not None and capacity_factor <= 0:
            raise ValueError('MoEMlp: capacity_factor must be positive or None')
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.num_experts, self.top_k = num_experts, top_k
        self.noisy_gating, self.noise_std = noisy_gating, noise_std
        self.normalize_gates = (
            top_k > 1) if normalize_gates is None else bool(normalize_gates)
        self.capacity_factor = capacity_factor
        self.aux_loss_type = aux_loss
        self.gate = nn.Linear(embed_dims, num_experts, bias=False)
        self.experts = nn.ModuleList([
            nn.Sequential(
                nn.Linear(embed_dims, feedforward_channels),
                build_activation_layer(act_cfg), nn.Dropout(ffn_drop),
                nn.Linear(feedforward_channels, embed_dims), nn.Dropout(ffn_drop))
            for _ in range(num_experts)
        ])
        self.aux_loss = None
        self.last_routing = None

    def init_weights(self):
        super().init_weights()
        if not (isinstance(self.init_cfg, dict)
                and self.init_cfg.get('type') == 'Pretrained'):
            # A near-uniform router at the start (V-MoE initialises it small).
            nn.init.normal_(self.gate.weight, std=0.02 / math.sqrt(self.embed_dims))

    # ------------------------------------------------------------------ routing
    def route(self, x):
        """Route (N, C) tokens: (indices (N, k), gates (N, k), probs (N, E), aux)."""
        logits = self.gate(x).float()
        noisy = self.training and self.noisy_gating and self.noise_std > 0
        sigma = self.noise_std / self.num_experts
        noisy_logits = logits + torch.randn_like(logits) * sigma if noisy else logits
        probs = logits.softmax(dim=-1)
        noisy_probs = noisy_logits.softmax(dim=-1)
        top_probs, indices = noisy_probs.topk(self.top_k, dim=-1)
        if self.normalize_gates:
            gates = top_probs / top_probs.sum(dim=-1, keepdim=True).clamp_min(1e-9)
        else:
            gates = top_probs
        return indices, gates, probs, self._aux(logits, noisy_logits, probs, indices,
                                                sigma if noisy else 0.)

    def _aux(self, logits, noisy_logits, probs, indices, sigma):
        e = self.num_experts
        if self.aux_loss_type == 'switch':
            first = F.one_hot(indices[:, 0], e).float().mean(0)
            return e * (first * probs.mean(0)).sum()
        importance = probs.sum(0)
        if sigma > 0:
            threshold = noisy_logits.topk(self.top_k, dim=-1).values[:, -1:]
            normal = torch.distributions.Normal(
                logits.new_zeros(()), logits.new_full((), sigma))
            load = normal.cdf(logits - threshold).sum(0)
        else:  # no noise: hard counts (not differentiable)
            load = F.one_hot(indices, e).float().sum((0, 1))
        return (_cv_squared(importance) + _cv_squared(load)) / 2

    def _capacity_keep(self, indices, gates, num_tokens):
        """(N, k) bool: assignments kept under the capacity (largest gates first).

        Vectorised: assignments sorted by expert, then by gate (descending); each
        expert keeps the first ``capacity`` of its run.
        """
        if self.capacity_factor is None:
            return torch.ones_like(indices, dtype=torch.bool)
        cap = math.ceil(self.capacity_factor * self.top_k * num_tokens /
                        self.num_experts)
        flat_idx, flat_gate = indices.reshape(-1), gates.reshape(-1).detach()
        by_gate = torch.argsort(flat_gate, descending=True, stable=True)
        order = by_gate[torch.argsort(flat_idx[by_gate], stable=True)]
        expert = flat_idx[order]
        counts = torch.bincount(expert, minlength=self.num_experts)
        starts = counts.cumsum(0) - counts
        rank = torch.arange(len(order), device=order.device) - starts[expert]
        keep = torch.zeros_like(flat_idx, dtype=torch.bool)
        keep[order] = rank < cap
        return keep.view_as(indices)

    # ------------------------------------------------------------------ forward
    def forward(self, x):
        """Tokens dispatched to their experts in one sort: the only Python loop is
        over the experts' own matmuls (on contiguous slices of the sorted tokens)."""
        shape = x.shape
        tokens = x.reshape(-1, shape[-1])
        indices, gates, probs, aux = self.route(tokens)
        keep = self._capacity_keep(indices, gates, tokens.shape[0])
        kept = keep.reshape(-1).nonzero(as_tuple=True)[0]
        expert = indices.reshape(-1)[kept]
        order = torch.argsort(expert, stable=True)
        kept = kept[order]
        tok = kept // self.top_k  # the token of each (sorted) assignment
        gate = gates.reshape(-1)[kept].unsqueeze(-1).to(tokens.dtype)
        counts = torch.bincount(expert, minlength=self.num_experts).tolist()
        chunks = tokens[tok].split(counts)
        out = torch.zeros_like(tokens)
        if len(tok):
            y = torch.cat([
                ex(chunk) for ex, chunk, n in zip(self.experts, chunks, counts) if n
            ])
            out.index_add_(0, tok, (y * gate).to(out.dtype))
        self.aux_loss = aux
        self.last_routing = dict(indices=indices, gates=gates, probs=probs, keep=keep)
        return out.reshape(shape)

    def extra_repr(self):
        return (f'num_experts={self.num_experts}, top_k={self.top_k}, '
                f'aux_loss={self.aux_loss_type!r}, '
                f'capacity_factor={self.capacity_factor}')
