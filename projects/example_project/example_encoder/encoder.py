"""A small multi-modal, multi-temporal encoder of your own, as an eofm plugin.

Per modality (any of the batch's series, e.g. ``s2``, ``s1`` and the derived ``ndvi``),
every date goes through a conv stem of its own; the dates are averaged over the valid
ones (``{m}_date_mask``: padded or missing dates do not count); the modalities are
concatenated and a conv trunk gives the feature maps a head reads. Not from a paper:
the point is how a model plugs into eofm (registry, batch dict, masks, host heads).
"""
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from eofm.registry import MODELS


def _stem(in_channels, channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


@MODELS.register_module()
class ExampleSeriesEncoder(BaseModule):
    """Per-date stems, masked temporal mean, concatenation, conv trunk.

    Args:
        in_channels (dict): Modality -> bands per date, e.g.
            ``dict(s2=10, s1=2, ndvi=1)``.
        channels (int): Width of each stem and of the trunk. Default 32.
        num_convs (int): Convolutions of the trunk. Default 2.
        init_cfg (dict, optional): MMEngine initialisation config.

    ``forward(batch)`` takes eofm's batch dict (``{m}`` (B, T, C, H, W), optional
    ``{m}_date_mask`` (B, T)); every modality must be on the same (H, W) grid.
    Returns a 1-tuple with the (B, channels, H, W) feature map (mmseg's heads take
    a tuple of levels).
    """

    def __init__(self, in_channels, channels=32, num_convs=2, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not in_channels:
            raise ValueError('ExampleSeriesEncoder: in_channels names no modality')
        self.modalities = tuple(in_channels)
        self.stems = nn.ModuleDict(
            {m: _stem(c, channels)
             for m, c in in_channels.items()})
        trunk = [_stem(channels * len(in_channels), channels)]
        trunk += [_stem(channels, channels) for _ in range(num_convs - 1)]
        self.trunk = nn.Sequential(*trunk)

    def _encode(self, m, x, date_mask):
        if x.dim() == 4:  # one date
            x = x[:, None]
        b, t, c, h, w = x.shape
        if c != self.stems[m][0].in_channels:
            raise ValueError(f'ExampleSeriesEncoder: {m} has {c} bands per date, the '
                             f'model expects {self.stems[m][0].in_channels}')
        feats = self.stems[m](x.flatten(0, 1)).view(b, t, -1, h, w)
        if date_mask is None:
            return feats.mean(1)
        weight = date_mask.to(feats.dtype)[:, :, None, None, None]
        return (feats * weight).sum(1) / weight.sum(1).clamp(min=1.0)

    def forward(self, batch):
        missing = [m for m in self.modalities if m not in batch]
        if missing:
            raise KeyError(f'ExampleSeriesEncoder: the batch lacks {missing} (keys: '
                           f'{sorted(batch)})')
        maps = [
            self._encode(m, batch[m], batch.get(f'{m}_date_mask'))
            for m in self.modalities
        ]
        grids = {tuple(f.shape[-2:]) for f in maps}
        if len(grids) > 1:
            raise ValueError(f'ExampleSeriesEncoder: the modalities are on different '
                             f'grids {sorted(grids)}; load them at one gsd')
        return (self.trunk(torch.cat(maps, dim=1)), )
