"""A small plain CNN backbone: smoke tests, CPU demos and multispectral baselines."""
import torch.nn as nn
from mmengine.model import BaseModule

from eofm.registry import MODELS


@MODELS.register_module()
class SimpleConvNet(BaseModule):
    """Stacked ``Conv3x3-BN-ReLU`` stages, each halving the resolution (by default).

    Not from a paper: the cheapest registered backbone that takes any number of input
    bands, used where a test or a demo needs a real model that trains in seconds on CPU.

    Args:
        in_channels (int): Input bands. Defaults to 3.
        channels (Sequence[int]): Output channels of each stage. Defaults to (16, 32).
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to the last stage.
        strides (Sequence[int], optional): Stride of each stage (default 2 each);
            1 keeps the input grid (a translation-equivariant model, e.g. to test
            tiled inference against whole-image inference).
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 in_channels=3,
                 channels=(16, 32),
                 out_indices=(-1, ),
                 strides=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels < 1:
            raise ValueError(
                f'SimpleConvNet: in_channels must be >= 1, got {in_channels}')
        num_stages = len(channels)
        self.out_indices = tuple(i % num_stages for i in out_indices)
        self.stages = nn.ModuleList()
        strides = tuple(strides) if strides is not None else (2, ) * num_stages
        if len(strides) != num_stages:
            raise ValueError(f'SimpleConvNet: {len(strides)} strides for {num_stages} '
                             'stages')
        prev = in_channels
        for c, stride in zip(channels, strides):
            self.stages.append(
                nn.Sequential(
                    nn.Conv2d(prev, c, 3, stride=stride, padding=1, bias=False),
                    nn.BatchNorm2d(c), nn.ReLU(inplace=True)))
            prev = c
        self.in_channels = in_channels

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'SimpleConvNet expects (B, {self.in_channels}, H, W) '
                             f'inputs, got {tuple(x.shape)}')
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
