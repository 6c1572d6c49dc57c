"""A head that regresses a full-resolution image from multi-scale features.

Design (FPN-like fusion, then learned upsampling):

1. **Laterals**: a 1 x 1 conv maps each input level i (stride s_i, C_i channels) to
   ``channels``.
2. **Top-down pathway** (FPN): from the coarsest level down, the running map is
   upsampled (bilinear) to the next finer level and added to its lateral; a 3 x 3
   conv + norm + activation smooths every merged level.
3. **Fusion**: every smoothed level is resized to the finest level's grid and the
   maps are concatenated and reduced to ``channels`` by a 3 x 3 conv (as the fusion of
   UPerNet's FPN branch).
4. **Upsampling to the image grid**: ``log2(stride of the finest level)`` stages of
   3 x 3 conv (``channels`` -> 4 x ``channels`` / 2) + ``PixelShuffle(2)``, halving the
   width each time (sub-pixel convolution, as SimMIM's decoder, which the msGFM
   encoder was pretrained with); a last bilinear resize covers sizes that are not a
   power-of-two multiple of the finest grid.
5. **Output**: a 3 x 3 conv + activation, then a 1 x 1 conv to ``out_channels``.

An optional ``out_act`` (e.g. 'sigmoid' for reflectances in [0, 1]) is applied to the
prediction; by default the output is linear.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule

from eofm.registry import MODELS

__all__ = ['PixelRegressionHead']


@MODELS.register_module()
class PixelRegressionHead(BaseModule):
    """Multi-scale features -> a (B, ``out_channels``, H, W) image (module doc).

    Args:
        in_channels (Sequence[int]): Channels of the input levels, finest first.
        out_channels (int): Channels of the predicted image.
        in_strides (Sequence[int]): Pixels per cell of each level (Swin with patch 4:
            4, 8, 16, 32). Only the finest is used (number of x2 upsampling stages).
        channels (int): Width of the fusion.
        min_channels (int): Lowest width of the upsampling stages.
        norm_cfg (dict): Norm of the conv modules.
        act_cfg (dict): Activation of the conv modules.
        out_act (str, optional): None, 'sigmoid' or 'tanh' on the prediction.
        loss (dict): A regression loss taking ``(pred, target, weight, avg_factor)``
            (mmdet's L1Loss, MSELoss, SmoothL1Loss...); default L1.
        align_corners (bool): Of the bilinear resizes.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 in_channels,
                 out_channels,
                 in_strides=(4, 8, 16, 32),
                 channels=256,
                 min_channels=32,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 out_act=None,
                 loss=dict(type='mmdet.L1Loss', loss_weight=1.0),
                 align_corners=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.in_strides = list(in_strides)
        if len(self.in_strides) != len(self.in_channels):
            raise ValueError(f'PixelRegressionHead: {len(self.in_channels)} input '
                             f'levels but {len(self.in_strides)} strides')
        finest = self.in_strides[0]
        if finest < 1 or finest & (finest - 1):
            raise ValueError('PixelRegressionHead: the finest stride must be a power '
                             f'of two, got {finest}')
        if out_act not in (None, 'sigmoid', 'tanh'):
            raise ValueError("PixelRegressionHead: out_act must be None, 'sigmoid' or "
                             f"'tanh', got {out_act!r}")
        self.out_channels, self.channels = int(out_channels), int(channels)
        self.out_act, self.align_corners = out_act, align_corners
        conv = dict(norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.laterals = nn.ModuleList(
            [ConvModule(c, channels, 1, **conv) for c in self.in_channels])
        self.smooths = nn.ModuleList(
            [ConvModule(channels, channels, 3, padding=1, **conv) for _ in in_channels])
        self.fuse = ConvModule(
            channels * len(self.in_channels), channels, 3, padding=1, **conv)
        ups, width = [], channels
        for _ in range(int(math.log2(finest))):
            nxt = max(width // 2, min_channels)
            ups.append(
                nn.Sequential(
                    nn.Conv2d(width, nxt * 4, 3, padding=1), nn.PixelShuffle(2),
                    build_activation_layer(act_cfg)))
            width = nxt
        self.upsample = nn.Sequential(*ups)
        self.refine = ConvModule(width, width, 3, padding=1, **conv)
        self.predict_conv = nn.Conv2d(width, self.out_channels, 1)
        self.loss_fn = MODELS.build(loss)

    def _resize(self, x, size):
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        return F.interpolate(
            x, size=size, mode='bilinear', align_corners=self.align_corners)

    def forward(self, feats, out_size=None):
        """(B, out_channels, H, W) from the levels ``feats`` (finest first);
        ``out_size`` (H, W) defaults to the finest grid times its stride."""
        feats = list(feats)
        if len(feats) != len(self.laterals):
            raise ValueError(f'PixelRegressionHead: expected {len(self.laterals)} '
                             f'feature levels, got {len(feats)}')
        for f, c in zip(feats, self.in_channels):
            if f.shape[1] != c:
                raise ValueError(f'PixelRegressionHead: a level has {f.shape[1]} '
                                 f'channels, in_channels says {c}')
        lat = [conv(f) for conv, f in zip(self.laterals, feats)]
        for i in range(len(lat) - 1, 0, -1):
            lat[i - 1] = lat[i - 1] + self._resize(lat[i], lat[i - 1].shape[-2:])
        outs = [conv(x) for conv, x in zip(self.smooths, lat)]
        size = outs[0].shape[-2:]
        x = self.fuse(torch.cat([self._resize(o, size) for o in outs], dim=1))
        x = self.upsample(x)
        if out_size is None:
            out_size = tuple(s * self.in_strides[0] for s in size)
        x = self._resize(x, tuple(out_size))
        x = self.predict_conv(self.refine(x))
        if self.out_act == 'sigmoid':
            x = torch.sigmoid(x)
        elif self.out_act == 'tanh':
            x = torch.tanh(x)
        return x

    def loss(self, pred, target, valid=None):
        """``dict(loss_pixel=...)``: the loss over the valid pixels (``valid``:
        (B, H, W) bool, all when None), averaged over pixels and bands."""
        if pred.shape != target.shape:
            raise ValueError(f'PixelRegressionHead: prediction {tuple(pred.shape)} and '
                             f'target {tuple(target.shape)} differ')
        if valid is None:
            weight = torch.ones_like(target)
        else:
            weight = valid.unsqueeze(1).to(target.dtype).expand_as(target)
        avg = weight.sum().clamp_min(1.0)
        return dict(
            loss_pixel=self.loss_fn(pred, target, weight=weight, avg_factor=avg))
