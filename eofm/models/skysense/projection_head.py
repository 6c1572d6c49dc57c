"""DINO's projection head, applied to feature vectors of any granularity."""
import torch.nn as nn
import torch.nn.functional as F

from eofm.registry import MODELS

__all__ = ['DINOProjectionHead']


@MODELS.register_module()
class DINOProjectionHead(nn.Module):
    """MLP -> L2-normalised bottleneck -> weight-normalised linear to K logits.

    The head of DINO (Caron et al., 2021), which SkySense's contrastive loss L_CL
    follows (paper Sec. 3.3, ref. [7]). mmpretrain 1.2 ships no DINO head, hence this
    small one. It works on the last dimension, so pixel (N, HW, d), object
    (N, N_C, d) and image (N, d) features share it.

    Args:
        in_channels (int): Feature width d.
        out_channels (int): Number of logits K (65536 in DINO).
        hidden_channels (int): MLP width (2048).
        bottleneck_channels (int): Width before the last layer (256).
        num_layers (int): MLP layers (3).
    """

    #: One FSDP unit (:func:`eofm.skysense_block_wrap_policy`).
    fsdp_wrap = True

    def __init__(self,
                 in_channels,
                 out_channels=65536,
                 hidden_channels=2048,
                 bottleneck_channels=256,
                 num_layers=3):
        super().__init__()
        layers, dims = [], in_channels
        for _ in range(num_layers - 1):
            layers += [nn.Linear(dims, hidden_channels), nn.GELU()]
            dims = hidden_channels
        layers.append(nn.Linear(dims, bottleneck_channels))
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.utils.parametrizations.weight_norm(
            nn.Linear(bottleneck_channels, out_channels, bias=False))
        self.last_layer.parametrizations.weight.original0.data.fill_(1.0)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))
