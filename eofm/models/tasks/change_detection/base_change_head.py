"""What every bi-temporal change head shares: the loss and the 0/1 change map.

A change head maps the multi-scale features of the two dates, ``feats_a`` and
``feats_b`` (lists of (B, C_i, h_i, w_i), finest first), to change logits at the
input size: (B, 2, H, W) for a softmax head trained with cross-entropy (BIT,
Chen et al., TGRS 2021) or (B, 1, H, W) for a sigmoid head trained with binary
cross-entropy (the U-Net of SeCo, Manas et al., ICCV 2021; SkySense Table J13 (iv)).
Losses are mmseg's (``dict(type='mmseg.CrossEntropyLoss', use_sigmoid=...)``), so
ignored pixels (``ignore_index``, 255) are masked the same way as in segmentation.
"""
import torch
from mmengine.model import BaseModule

from eofm.registry import MODELS

__all__ = ['BaseChangeHead']


class BaseChangeHead(BaseModule):
    """Base class of the change heads (see the module docstring).

    Args:
        in_channels (Sequence[int]): Channels of the features the head reads.
        in_index (Sequence[int], optional): Which backbone/neck outputs it reads
            (all by default), finest first.
        loss_decode (dict): The loss; ``use_sigmoid=True`` gives one output channel.
        num_classes (int): 2 (no change / change).
        threshold (float): Change probability above which a sigmoid head predicts
            change.
        ignore_index (int): Label value without loss.
        align_corners (bool): Of the bilinear resizes.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 in_channels,
                 in_index=None,
                 loss_decode=dict(
                     type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 num_classes=2,
                 threshold=0.5,
                 ignore_index=255,
                 align_corners=False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_classes != 2:
            raise ValueError(f'{type(self).__name__}: binary change detection needs '
                             f'num_classes=2, got {num_classes}')
        self.in_channels = list(in_channels)
        if in_index is None:
            in_index = range(len(self.in_channels))
        self.in_index = list(in_index)
        if len(self.in_index) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__}: in_index {self.in_index} and '
                             f'in_channels {self.in_channels} differ in length')
        self.num_classes = num_classes
        self.use_sigmoid = bool(loss_decode.get('use_sigmoid', False))
        self.out_channels = 1 if self.use_sigmoid else num_classes
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.loss_decode = MODELS.build(loss_decode)

    def select(self, feats):
        """The features of ``in_index``, checked against ``in_channels``."""
        if isinstance(feats, torch.Tensor):
            feats = [feats]
        if max(self.in_index) >= len(feats):
            raise ValueError(f'{type(self).__name__}: in_index {self.in_index} needs '
                             f'{max(self.in_index) + 1} feature maps, the backbone '
                             f'(and neck) gave {len(feats)}')
        out = [feats[i] for i in self.in_index]
        got = [f.shape[1] for f in out]
        if got != self.in_channels:
            raise ValueError(f'{type(self).__name__}: in_channels {self.in_channels} '
                             f'but the features have {got} channels')
        return out

    def forward(self, feats_a, feats_b, img_size):
        """(B, out_channels, *img_size) change logits."""
        raise NotImplementedError

    def loss_by_logits(self, logits, gt):
        """``dict(loss_*=...)`` of logits (B, C, H, W) against labels (B, H, W)."""
        if logits.shape[-2:] != gt.shape[-2:]:
            raise ValueError(f'{type(self).__name__}: logits {tuple(logits.shape)} and '
                             f'labels {tuple(gt.shape)} differ in size')
        name = getattr(self.loss_decode, 'loss_name', 'loss_ce')
        return {
            name: self.loss_decode(logits, gt.long(), ignore_index=self.ignore_index)
        }

    def predict_by_logits(self, logits):
        """(B, H, W) long change map, 0 or 1."""
        if self.use_sigmoid:
            return (logits[:, 0].sigmoid() > self.threshold).long()
        return logits.argmax(dim=1)
