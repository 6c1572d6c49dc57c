"""OmniSat self-supervised pretraining (paper Sec. 3.2, Eq. 1-3, Fig. 3-4).

* Masking: the ``M x N`` projector tokens (with their positions) of a tile are
  masked at random, ratio 0.75 over all modalities jointly; masked tokens are
  *replaced* by a learned ``masked_token`` (not dropped) before the combining network.
* Multimodal reconstruction (Eq. 1-2): from the ``N`` fused patch tokens every
  modality is reconstructed: the aerial image by :class:`OmniSatAerialDecoder` (index
  bypass), MSE over *all* patches against per-patch-normalised targets (mean and
  variance over the patch's channels and pixels); each Sentinel series by
  :class:`OmniSatSentinelDecoder` at the dates the L-TAE attended to most, MSE
  against targets normalised per (sample, date) over patches and channels, averaged
  over the *masked* patches only. A series with ``k x k`` pixels per patch
  (PASTIS-HD: 4 x 4) is reconstructed as the ``C * k * k`` flattened values of each
  patch, as the reference's ``ReconstructionMaskLossSentinelPastis``.
* Contrastive alignment (Eq. 3): :class:`eofm.MILNCELoss` (tau 0.1) on the
  projector tokens (before masking and positions): positives are the same patch in
  the other modalities, the same tile's same-modality tokens are excluded.
* Total: sum of the reconstruction losses (weight 1) + MIL-NCE (weight 1).

After OmniSat's ``MAEOmni`` (``src/models/networks/MAEOmni.py``), ``DecoderModalities``
(``.../decoders.py``) and ``Losses`` / ``MAEReconstructionLoss`` / ``MILNCE``
(``src/models/losses.py``), MIT. State-dict keys ``backbone.*`` (the reference's
``encoder.*``), ``decoder.projector_{m}.*``, ``masked_token``. At the TreeSatAI-TS
defaults: decoders 1,969,680 parameters, the whole model 11,808,976.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from eofm.registry import MODELS
from ..common.modes import ModeForwardMixin
from .aerial import OmniSatAerialDecoder
from .decoders import OmniSatSentinelDecoder

__all__ = [
    'OmniSatPretrainer', 'aerial_reconstruction_loss', 'series_reconstruction_loss'
]


def aerial_reconstruction_loss(pred: torch.Tensor,
                               patches: torch.Tensor) -> torch.Tensor:
    """MSE over all patches; targets (B, N, C, p, p) normalised per patch."""
    mean = patches.mean(dim=(2, 3, 4), keepdim=True)
    var = patches.var(dim=(2, 3, 4), keepdim=True)
    target = (patches - mean) / (var + 1e-6)**0.5
    return ((pred - target)**2).mean()


def series_reconstruction_loss(pred: torch.Tensor, index: torch.Tensor,
                               series: torch.Tensor,
                               masked: torch.Tensor) -> torch.Tensor:
    """MSE on the masked patches of the reconstructed dates.

    Args:
        pred (Tensor): (K, N, C) predictions at the kept (sample, date) pairs.
        index (Tensor): (K, 2) their (sample, date) indices.
        series (Tensor): (B, T, C, h, w) inputs with ``h * w = N``.
        masked (Tensor): (B, N), 1 where the patch token was masked.
    """
    if index.shape[0] == 0:
        return pred.sum() * 0
    target = series[index[:, 0], index[:, 1]]
    target = target.flatten(2).transpose(1, 2)  # (K, N, C)
    mean = target.mean(dim=(-2, -1), keepdim=True)
    var = target.var(dim=(-2, -1), keepdim=True)
    target = (target - mean) / (var + 1e-6)**0.5
    loss = ((pred - target)**2).mean(dim=-1)
    weight = masked[index[:, 0]].to(loss.dtype)
    return (loss * weight).sum() / weight.sum().clamp(min=1)


@MODELS.register_module()
class OmniSatPretrainer(ModeForwardMixin, BaseModel):
    """OmniSat pretraining: masked multimodal reconstruction + MIL-NCE.

    Args:
        backbone (dict): An :class:`eofm.OmniSat` config.
        mask_ratio (float): Fraction of the ``M x N`` tokens masked. Default 0.75.
        date_threshold (float): Fraction of dates reconstructed per series (top
            L-TAE attention). Default 0.25.
        date_filtering (bool): False reconstructs all dates (ablation).
        contrastive (dict, optional): The contrastive loss, default
            ``eofm.MILNCELoss`` with tau 0.1; None disables it (ablation "no
            contrastive").
        reconstruction_weight (float): Weight of each modality's reconstruction
            loss. Default 1.
        contrastive_weight (float): Weight of MIL-NCE. Default 1.
        data_preprocessor (dict, optional): Defaults to
            ``eofm.MultiModalDataPreprocessor``.
        init_cfg (dict, optional): mmengine init config.

    ``forward(inputs, data_samples=None, mode)``: ``'loss'`` a dict of losses
    (``loss_rec_{m}`` per modality, ``loss_milnce``); ``'predict'`` the
    reconstructions (see :meth:`predict`); ``'tensor'`` the backbone's outputs.
    """

    def __init__(self,
                 backbone: dict,
                 mask_ratio: float = 0.75,
                 date_threshold: float = 0.25,
                 date_filtering: bool = True,
                 contrastive: Optional[dict] = dict(type='eofm.MILNCELoss', tau=0.1),
                 reconstruction_weight: float = 1.0,
                 contrastive_weight: float = 1.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        data_preprocessor = data_preprocessor or dict(
            type='eofm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if not 0 <= mask_ratio < 1:
            raise ValueError(f'OmniSatPretrainer: mask_ratio must be in [0, 1), got '
                             f'{mask_ratio}')
        modalities = self.backbone.modalities
        if contrastive is not None and len(modalities) < 2:
            raise ValueError('OmniSatPretrainer: MIL-NCE needs at least 2 modalities '
                             '(or contrastive=None)')
        self.mask_ratio = mask_ratio
        self.reconstruction_weight = reconstruction_weight
        self.contrastive_weight = contrastive_weight
        d = self.backbone.embed_dim
        self.masked_token = nn.Parameter(torch.zeros(1, 1, d))
        self.decoder = nn.Module()
        for m in modalities:
            spec = self.backbone.specs[m]
            if spec['kind'] == 'image':
                dec = OmniSatAerialDecoder(spec['in_channels'], d)
            else:
                # k x k pixels per patch: the C * k * k flattened values (PASTIS-HD)
                dec = OmniSatSentinelDecoder(
                    spec['in_channels'] * spec.get('patch_px', 1)**2,
                    d,
                    T=spec.get('T', 367),
                    threshold=date_threshold,
                    date_filtering=date_filtering)
            self.decoder.add_module(f'projector_{m}', dec)
        self.contrastive = MODELS.build(contrastive) if contrastive else None

    # ----------------------------------------------------------------- parts
    def random_masking(self, tokens: torch.Tensor):
        """Replace a random ``mask_ratio`` of the tokens of each sample by
        ``masked_token``. Returns (tokens, mask (B, L) with 1 = masked)."""
        b, length, d = tokens.shape
        len_keep = int(length * (1 - self.mask_ratio))
        noise = torch.rand(b, length, device=tokens.device)
        ids_shuffle = torch.argsort(noise, dim=1)
        mask = torch.ones(b, length, device=tokens.device)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, 1, torch.argsort(ids_shuffle, dim=1))
        masked = mask.unsqueeze(-1).to(tokens.dtype)
        tokens = tokens * (1 - masked) + self.masked_token.to(tokens.dtype) * masked
        return tokens, mask

    def reconstruct(self, inputs: Dict[str, torch.Tensor]):
        """Mask, encode, decode. Returns (out, mask): ``out`` the projector outputs
        plus ``reconstruct_{m}`` (aerial: (B, N, C, p, p); series: ``(pred (K, N, C),
        index (K, 2))``) and ``fused`` (B, 1 + N, d)."""
        tokens, out = self.backbone.forward_proj(inputs)
        tokens, mask = self.random_masking(tokens)
        fused = self.backbone.forward_transformer(tokens)
        out['fused'] = fused
        patch_tokens = fused[:, 1:]
        for m in self.backbone.modalities:
            dec = getattr(self.decoder, f'projector_{m}')
            if self.backbone.specs[m]['kind'] == 'image':
                out[f'reconstruct_{m}'] = dec(patch_tokens, out[f'indices_{m}'],
                                              out[f'sizes_{m}'])
            else:
                out[f'reconstruct_{m}'] = dec(patch_tokens, out[f'attention_{m}'],
                                              out[f'dates_{m}'], out[f'date_mask_{m}'])
        return out, mask

    # ----------------------------------------------------------------- modes
    def loss(self, inputs, data_samples=None) -> Dict[str, torch.Tensor]:
        out, mask = self.reconstruct(inputs)
        n = self.backbone.num_patches
        losses = {}
        for i, m in enumerate(self.backbone.modalities):
            if self.backbone.specs[m]['kind'] == 'image':
                loss = aerial_reconstruction_loss(out[f'reconstruct_{m}'],
                                                  out[f'input_{m}'])
            else:
                pred, index = out[f'reconstruct_{m}']
                loss = series_reconstruction_loss(pred, index, out[f'input_{m}'],
                                                  mask[:, i * n:(i + 1) * n])
            losses[f'loss_rec_{m}'] = self.reconstruction_weight * loss
        if self.contrastive is not None:
            feats = torch.stack([out[f'tokens_{m}'] for m in self.backbone.modalities],
                                dim=1)
            losses['loss_milnce'] = self.contrastive_weight * self.contrastive(feats)
        return losses

    def predict(self, inputs, data_samples=None):
        """Reconstructions of a masked batch: dict with ``mask`` (B, M x N) and per
        modality ``{m}`` (aerial (B, N, C, p, p); series ``(pred, index)``)."""
        out, mask = self.reconstruct(inputs)
        res = {'mask': mask}
        for m in self.backbone.modalities:
            res[m] = out[f'reconstruct_{m}']
        return res

    def extract_feat(self, inputs):
        return self.backbone(inputs)

    def named_features(self, inputs):
        """The unmasked encoder's outputs by name: ``'patch'`` the combiner's patch
        tokens as a (B, d, gh, gw) map on the tile's patch grid, ``'tile'`` its
        (B, d) tile token."""
        tokens, _ = self.backbone.forward_proj(inputs)
        x = self.backbone.forward_transformer(tokens)
        gh, gw = self.backbone.grid_shape
        return dict(patch=x[:, 1:].transpose(1, 2).reshape(x.shape[0], -1, gh, gw),
                    tile=x[:, 0])

    def probe_features(self, inputs):
        """The frozen-encoder probes' features: the patch-token map."""
        return self.named_features(inputs)['patch']

    def forward_tensor(self, inputs):
        """``mode='tensor'``: the encoder's outputs."""
        return self.extract_feat(inputs)
