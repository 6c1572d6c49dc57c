"""A U-Net decoder over the per-scale differences of two dates' features.

SkySense evaluates its Sentinel-2 encoder on OSCD with a U-Net head (paper
supplementary K, "Change Detection", following SeCo (Manas et al., ICCV 2021) and
CACo (Mall et al., CVPR 2023); Table J13 (iv): BCE loss). The setup is SeCo's
Siamese U-Net: the shared encoder runs on both dates and, at every scale i, the
decoder reads the absolute difference D_i = |F_i(x_1) - F_i(x_2)| (``fusion='diff'``,
the default and SeCo's choice; ``'concat'`` reads [F_i(x_1), F_i(x_2)] instead).
From the coarsest scale up, each decoder block (SeCo's ``UNet``)

    y = conv3x3(upsample(y))                        # to the next finer scale
    y = dropout(ReLU(BN(conv3x3([y, D_i]))))         # skip connection

and a final upsampling to the input size and a 1x1 conv give one logit per pixel
(change probability after a sigmoid, trained with binary cross-entropy).
"""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize

from eofm.registry import MODELS
from .base_change_head import BaseChangeHead

__all__ = ['UNetChangeHead']


@MODELS.register_module()
class UNetChangeHead(BaseChangeHead):
    """Siamese U-Net change decoder (see the module docstring).

    Args:
        in_channels (Sequence[int]): Channels of the selected features, finest first
            (each scale must be finer than or equal to the next).
        in_index (Sequence[int], optional): The outputs read (all by default).
        channels (int | Sequence[int], optional): Decoder width at each scale; the
            scale's feature channels by default (SeCo). The coarsest scale's entry
            is unused: that scale enters the decoder as it is.
        fusion (str): 'diff' (|a - b|) or 'concat' ([a, b]) per scale.
        dropout_ratio (float): ``Dropout2d`` after each block (SeCo: 0.3).
        upsample_mode (str): 'nearest' (SeCo) or 'bilinear'.
        norm_cfg (dict): Norm of the skip convs.
        act_cfg (dict): Their activation.
        loss_decode (dict): Binary cross-entropy on one output channel by default.
        **kwargs: :class:`BaseChangeHead` arguments.
    """

    def __init__(self,
                 in_channels,
                 in_index=None,
                 channels=None,
                 fusion='diff',
                 dropout_ratio=0.3,
                 upsample_mode='nearest',
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 loss_decode=dict(
                     type='mmseg.CrossEntropyLoss',
                     use_sigmoid=True,
                     loss_weight=1.0,
                     avg_non_ignore=True),
                 **kwargs):
        super().__init__(in_channels, in_index, loss_decode=loss_decode, **kwargs)
        if fusion not in ('diff', 'concat'):
            raise ValueError(f"UNetChangeHead: fusion must be 'diff' or 'concat', got "
                             f'{fusion!r}')
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError(f"UNetChangeHead: upsample_mode must be 'nearest' or "
                             f"'bilinear', got {upsample_mode!r}")
        n = len(self.in_channels)
        if channels is None:
            channels = list(self.in_channels)
        elif isinstance(channels, int):
            channels = [channels] * n
        if len(channels) != n:
            raise ValueError(f'UNetChangeHead: {n} scales but channels {channels}')
        self.channels = list(channels)
        self.fusion, self.upsample_mode = fusion, upsample_mode
        skip = [c * (2 if fusion == 'concat' else 1) for c in self.in_channels]
        # The coarsest scale enters as it is; block i brings y to scale i.
        self.up_convs = nn.ModuleList()
        self.skip_convs = nn.ModuleList()
        for i in range(n - 1):
            below = skip[-1] if i == n - 2 else self.channels[i + 1]
            self.up_convs.append(nn.Conv2d(below, self.channels[i], 3, padding=1))
            self.skip_convs.append(
                ConvModule(
                    self.channels[i] + skip[i],
                    self.channels[i],
                    3,
                    padding=1,
                    bias=False,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio else nn.Identity()
        last = self.channels[0] if n > 1 else skip[0]
        self.conv_seg = nn.Conv2d(last, self.out_channels, 1)

    def _resize(self, x, size):
        align = self.align_corners if self.upsample_mode == 'bilinear' else None
        return resize(x, size=tuple(size), mode=self.upsample_mode, align_corners=align)

    def forward(self, feats_a, feats_b, img_size):
        a, b = self.select(feats_a), self.select(feats_b)
        if self.fusion == 'diff':
            skips = [(x - y).abs() for x, y in zip(a, b)]
        else:
            skips = [torch.cat([x, y], dim=1) for x, y in zip(a, b)]
        y = skips[-1]
        for i in range(len(skips) - 2, -1, -1):
            y = self.up_convs[i](self._resize(y, skips[i].shape[-2:]))
            y = self.dropout(self.skip_convs[i](torch.cat([y, skips[i]], dim=1)))
        return self.conv_seg(self._resize(y, img_size))
