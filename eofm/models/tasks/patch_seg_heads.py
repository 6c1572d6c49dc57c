"""Per-patch segmentation heads (mmseg decode heads) for patch-token encoders.

Multi-modal patch encoders (:class:`eofm.OmniSat`, :class:`eofm.AnySat`) give one
token per metric patch of the tile, a (B, D, gh, gw) map after
:class:`eofm.TokensToMap`. :class:`PatchLinearSegHead` classifies every patch token
linearly and upsamples the (B, K, gh, gw) logits to the label grid (by default
``'nearest'``: each patch predicts one class for all its pixels);
:class:`SubPatchLinearSegHead` predicts ``s x s`` sub-patch logits per token (one
linear layer to ``K * s * s`` channels, then a pixel shuffle), the linear probe of
dense AnySat-style outputs at a finer grid.
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmpretrain.models.utils import LayerNorm2d

from eofm.registry import MODELS

__all__ = ['PatchLinearSegHead', 'SubPatchLinearSegHead']

# mmseg's loss, named with its scope so that the head builds under any default scope
DEFAULT_LOSS = dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)


def _resize(x: torch.Tensor, size, mode: str, align_corners: bool) -> torch.Tensor:
    size = tuple(int(s) for s in size)
    if tuple(x.shape[-2:]) == size:
        return x
    if mode == 'nearest':
        return F.interpolate(x, size=size, mode='nearest')
    return F.interpolate(x, size=size, mode=mode, align_corners=align_corners)


class _PatchSegHeadMixin:
    """Upsampling of the logits to the label / image grid with ``upsample_mode``."""

    def _check_common(self, norm, upsample_mode):
        if norm not in (None, 'bn', 'ln'):
            raise ValueError(f"{type(self).__name__}: norm must be None, 'bn' or 'ln', "
                             f'got {norm!r}')
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError(f"{type(self).__name__}: upsample_mode must be 'nearest' "
                             f"or 'bilinear', got {upsample_mode!r}")

    def _build_norm(self, norm, channels):
        if norm == 'bn':
            return nn.BatchNorm2d(channels)
        if norm == 'ln':
            # LayerNorm of each token (over its channels), as the AnySat head
            return LayerNorm2d(channels)
        return nn.Identity()

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        size = batch_data_samples[0].gt_sem_seg.data.shape[-2:]
        seg_logits = _resize(seg_logits, size, self.upsample_mode, self.align_corners)
        return super().loss_by_feat(seg_logits, batch_data_samples)

    def predict_by_feat(self, seg_logits, batch_img_metas: List[dict]):
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        seg_logits = _resize(seg_logits, size[:2], self.upsample_mode,
                             self.align_corners)
        return super().predict_by_feat(seg_logits, batch_img_metas)


@MODELS.register_module()
class PatchLinearSegHead(_PatchSegHeadMixin, BaseDecodeHead):
    """Linear classifier of each patch token, logits upsampled to the label grid.

    Args:
        in_channels (int): Token width D.
        num_classes (int): Number of classes K.
        norm (str, optional): ``'bn'`` (BatchNorm2d), ``'ln'`` (layer norm over the
            channels) or None before the classifier. Default None.
        upsample_mode (str): ``'nearest'`` (one class per patch) or ``'bilinear'``
            (mmseg's default). Default ``'nearest'``.
        **kwargs: Other arguments of mmseg's ``BaseDecodeHead`` (``dropout_ratio``
            default 0, ``loss_decode``, ``ignore_index``, ``in_index``...).

    ``forward(inputs)``: ``inputs`` a list / tuple of maps, the one at ``in_index``
    (default -1) is (B, D, gh, gw); returns (B, K, gh, gw) logits.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 norm: Optional[str] = None,
                 upsample_mode: str = 'nearest',
                 dropout_ratio: float = 0.0,
                 **kwargs):
        self._check_common(norm, upsample_mode)
        kwargs.setdefault('loss_decode', dict(DEFAULT_LOSS))
        super().__init__(
            in_channels=in_channels,
            channels=in_channels,
            num_classes=num_classes,
            dropout_ratio=dropout_ratio,
            **kwargs)
        self.upsample_mode = upsample_mode
        self.norm = self._build_norm(norm, in_channels)

    def forward(self, inputs):
        x = self._transform_inputs(inputs)
        return self.cls_seg(self.norm(x))


@MODELS.register_module()
class SubPatchLinearSegHead(PatchLinearSegHead):
    """Linear classifier of ``s x s`` sub-patches per patch token.

    One 1x1 convolution maps each token to ``K * s * s`` logits, a pixel shuffle
    lays them out as an ``s x s`` block: (B, D, gh, gw) -> (B, K, gh * s, gw * s),
    then upsampled to the label grid like :class:`PatchLinearSegHead`.

    Args:
        in_channels (int): Token width D.
        num_classes (int): Number of classes K.
        scale (int): Sub-patches per patch side ``s``. Default 4.
        norm, upsample_mode, dropout_ratio, **kwargs: As :class:`PatchLinearSegHead`.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 scale: int = 4,
                 norm: Optional[str] = None,
                 upsample_mode: str = 'nearest',
                 dropout_ratio: float = 0.0,
                 **kwargs):
        if int(scale) < 1:
            raise ValueError(f'SubPatchLinearSegHead: scale must be >= 1, got {scale}')
        super().__init__(
            in_channels,
            num_classes,
            norm=norm,
            upsample_mode=upsample_mode,
            dropout_ratio=dropout_ratio,
            **kwargs)
        self.scale = int(scale)
        self.conv_seg = nn.Conv2d(in_channels, self.out_channels * self.scale**2, 1)

    def forward(self, inputs):
        x = self.norm(self._transform_inputs(inputs))
        if self.dropout is not None:
            x = self.dropout(x)
        return F.pixel_shuffle(self.conv_seg(x), self.scale)
