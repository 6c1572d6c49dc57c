"""SkySense's "up heads": Sentinel features lifted onto the HR feature grid."""
import torch.nn as nn

from eofm.registry import MODELS

__all__ = ['SkySenseUpHead']


@MODELS.register_module()
class SkySenseUpHead(nn.Module):
    """1x1 conv to ``out_channels * scale**2`` + PixelShuffle(``scale``).

    Lifts ViT features (1024 x 16 x 16) to the channels and grid of the HR
    encoder's last stage (2816 x 64 x 64 for the release, Sec. 3.2: the modalities'
    features must agree in size before the fusion, Eq. 1). Keys ``decoder.0.*`` as in
    ``skysense_model_head_s2.pth`` / ``skysense_model_head_s1.pth``.

    Args:
        in_channels (int): ViT width (1024).
        out_channels (int): HR last-stage width (2816).
        scale (int): Upsampling factor (4).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``.
    """

    #: One FSDP unit (:func:`eofm.skysense_block_wrap_policy`).
    fsdp_wrap = True

    def __init__(self, in_channels=1024, out_channels=2816, scale=4, init_cfg=None):
        super().__init__()
        self.in_channels, self.out_channels, self.scale = in_channels, out_channels, scale
        self.init_cfg = init_cfg
        self.decoder = nn.Sequential(
            nn.Conv2d(in_channels, out_channels * scale**2, kernel_size=1),
            nn.PixelShuffle(scale))

    def init_weights(self):
        from ..common.pretrained import load_pretrained, pretrained_init_cfg
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is not None:
            load_pretrained(self, pretrained[0], pretrained[1])

    def forward(self, x):
        """(N, C_in, h, w) -> (N, C_out, h * scale, w * scale)."""
        if x.shape[1] != self.in_channels:
            raise ValueError(f'SkySenseUpHead: expected {self.in_channels} channels, '
                             f'got {x.shape[1]}')
        return self.decoder(x)
