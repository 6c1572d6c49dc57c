"""g_Ms / g_SAR: SkySense's Sentinel-2 and Sentinel-1 encoders, mmseg's ViT.

ViT-L in mmseg's ``VisionTransformer`` layout (paper Sec. 3.2 and Table J12: 302M
each): image 64 px, patch 4 (a 16 x 16 token grid), 1024-d, 24 layers, 16 heads,
cls token, no final norm, a patch-embedding bias; 10 Sentinel-2 bands (B2, B3, B4,
B5, B6, B7, B8, B8A, B11, B12) or 2 Sentinel-1 bands (VV, VH). eofm reuses mmseg's
class and adds:

* :meth:`SkySenseViT.forward_series`: every date of a (B, T, C, H, W) series through
  the encoder as one batch of B*T images, in chunks of ``chunk_size`` images to bound
  memory, giving (B, T, D, h, w);
* loading of the release's Sentinel-2 file, which also stores the date table
  ``ctpe`` of the fusion (paper Eq. 2): the encoder skips it, and
  :class:`eofm.SkySense` gives it to its owner, :class:`eofm.MultiModalTemporalFusion`;
* strict loading of the release files and PyTorch's fused attention
  (``scaled_dot_product_attention``) inside mmseg's layers (see
  :func:`use_fused_attention`).
"""
import torch
import torch.nn as nn
from mmseg.models.backbones import VisionTransformer

from eofm.registry import MODELS
from ..common.pretrained import (band_contract_args, band_contract_convert,
                                 load_pretrained, pretrained_init_cfg)

__all__ = ['SkySenseViT', 'use_fused_attention', 'DATE_TABLE_KEYS', 'RELEASE_BANDS']

#: The bands of the released Sentinel-2 / Sentinel-1 weights, in their order
#: (:mod:`eofm.structures.bands`).
RELEASE_BANDS = {
    10: ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12'),
    2: ('VV', 'VH'),
}

#: Keys of the release's Sentinel-2 file that belong to the fusion (its date table).
DATE_TABLE_KEYS = ('ctpe', )


class _FusedMultiheadAttention(nn.MultiheadAttention):
    """``nn.MultiheadAttention`` that never returns weights.

    mmcv's ``MultiheadAttention`` wrapper (used by mmseg's ViT layers) calls the torch
    module with ``need_weights=True``, which forces the unfused path that
    materialises the (L x L) attention matrix; without weights PyTorch dispatches
    to ``scaled_dot_product_attention``. Parameters and keys are unchanged.
    """

    def forward(self, *args, **kwargs):
        kwargs['need_weights'] = False
        return super().forward(*args, **kwargs)


def use_fused_attention(module):
    """Switch every ``nn.MultiheadAttention`` below ``module`` to the fused path."""
    for m in module.modules():
        if type(m) is nn.MultiheadAttention:
            m.__class__ = _FusedMultiheadAttention
    return module


@MODELS.register_module()
class SkySenseViT(VisionTransformer):
    """SkySense g_Ms / g_SAR (see the module docstring).

    Args:
        arch (str): 'large' (SkySense: 1024-d, 24 layers, 16 heads) or
            'skysense-tiny' (64-d, 2 layers, 2 heads) for CPU tests and demos.
        in_channels (int): 10 for Sentinel-2, 2 for Sentinel-1.
        img_size (int): 64 as released (positional embeddings of a 16 x 16 grid;
            other sizes are interpolated by mmseg).
        patch_size (int): 4 as released.
        chunk_size (int): Images per encoder call in :meth:`forward_series`.
        bands (Sequence[str], optional): Names of the input bands, in order: the
            loaded weights are adapted to them by name (the band contract,
            :mod:`eofm.structures.bands`).
        trained_bands (Sequence[str], optional): The bands of the loaded weights
            (default: the release's S2 or S1 bands, :data:`RELEASE_BANDS`).
        band_policy (dict, optional): ``missing`` / ``extra`` policies.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``.
        **kwargs: Other mmseg ``VisionTransformer`` arguments (``drop_path_rate``,
            ``with_cp``, ``out_indices``...).
    """

    arch_zoo = {
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
        'skysense-tiny': dict(embed_dims=64, num_layers=2, num_heads=2),
        'skysense-small': dict(embed_dims=192, num_layers=4, num_heads=3),
    }

    def __init__(self,
                 arch='large',
                 in_channels=10,
                 img_size=64,
                 patch_size=4,
                 chunk_size=64,
                 bands=None,
                 trained_bands=None,
                 band_policy=None,
                 init_cfg=None,
                 **kwargs):
        if arch not in self.arch_zoo:
            raise ValueError(f'SkySenseViT: arch must be one of {list(self.arch_zoo)}, '
                             f'got {arch!r}')
        cfg = dict(self.arch_zoo[arch])
        cfg.update(kwargs)
        cfg.setdefault('mlp_ratio', 4)
        cfg.setdefault('qkv_bias', True)
        cfg.setdefault('patch_bias', True)
        cfg.setdefault('final_norm', False)
        cfg.setdefault('with_cls_token', True)
        cfg.setdefault('out_indices', -1)
        super().__init__(
            img_size=img_size,
            patch_size=patch_size,
            in_channels=in_channels,
            patch_pad='corner',
            init_cfg=init_cfg,
            **cfg)
        self.arch = arch
        self.in_channels = in_channels
        self.embed_dims = cfg['embed_dims']
        self.chunk_size = chunk_size
        self.patch_size = patch_size
        self.bands, self.band_policy = band_contract_args('SkySenseViT', bands,
                                                          in_channels, band_policy)
        self.trained_bands = tuple(trained_bands) if trained_bands else \
            RELEASE_BANDS.get(in_channels)
        use_fused_attention(self)

    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()
            return
        checkpoint, prefix = pretrained
        convert = None
        if self.bands is not None:
            if self.trained_bands is None:
                raise ValueError('SkySenseViT: bands given but the bands of the weights '
                                 'are unknown: set trained_bands')
            convert = band_contract_convert('SkySenseViT', 'patch_embed.projection.weight',
                                            self.trained_bands, self.bands,
                                            self.band_policy, source=str(checkpoint))
        # The release's S2 file also holds the fusion's date table ``ctpe``.
        load_pretrained(self, checkpoint, prefix or 'backbone', ignore_keys=DATE_TABLE_KEYS,
                        convert=convert)

    def forward(self, inputs):
        if inputs.dim() != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(f'SkySenseViT: expected (N, {self.in_channels}, H, W) '
                             f'images, got shape {tuple(inputs.shape)}')
        return super().forward(inputs)

    def forward_series(self, series, date_mask=None):
        """(B, T, C, H, W) -> (B, T, D, H / patch, W / patch), last output.

        The real dates of all samples go through the encoder as one batch, in
        chunks of ``chunk_size`` images; padded dates (``date_mask`` False, (B, T))
        are not encoded and get zero features.
        """
        if series.dim() != 5:
            raise ValueError(f'SkySenseViT: a series must be (B, T, C, H, W), got '
                             f'shape {tuple(series.shape)}')
        b, t = series.shape[:2]
        flat = series.flatten(0, 1)
        keep = None if date_mask is None else date_mask.reshape(-1).bool()
        if keep is not None and not keep.all():
            flat = flat[keep]
        outs = [self(chunk)[-1] for chunk in flat.split(self.chunk_size)]
        feats = torch.cat(
            outs, dim=0) if outs else flat.new_zeros(
                (0, self.embed_dims, *self._grid(series.shape[-2:])))
        if keep is not None and not keep.all():
            full = feats.new_zeros((b * t, *feats.shape[1:]))
            full[keep] = feats
            feats = full
        return feats.view(b, t, *feats.shape[1:])

    def _grid(self, hw):
        p = self.patch_size
        return (hw[0] + p - 1) // p, (hw[1] + p - 1) // p
