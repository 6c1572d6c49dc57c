"""g_HR: SkySense's high-resolution optical encoder, mmpretrain's Swin Transformer V2.

The released HR weights (``skysense_model_backbone_hr.pth``, also circulated as
``skysense_swin_huge_ghr.pth``) are mmpretrain ``SwinTransformerV2`` arch ``huge``
(embed 352, depths [2, 2, 18, 2], heads [8, 16, 32, 64], window 8, extra norm every
6 blocks; paper Sec. 4.1 and Table J12: 654M parameters). eofm reuses mmpretrain's
class and adds what EO users need around it:

* ``in_channels`` other than 3: 3-channel weights are adapted when loaded
  (:func:`adapt_patch_embed`): extra channels get the red band's kernel, as the
  release's converter did for RGB+NIR; fewer channels take the first ones (one
  channel: the sum of R, G and B, so a grey image gives the same response);
* strict loading of the release layouts (``backbone.`` prefix or not, wrapped or
  not, an optional ``mask_token`` of the pretraining skipped) with clear errors;
* small presets (``skysense-tiny``) for CPU tests and demos.

Multi-scale outputs [352, 704, 1408, 2816] come from ``out_indices=(0, 1, 2, 3)``;
the release has only the last output norm (``norm3``), the others start fresh.
``pad_small_map=True`` (eofm's default) is needed when a stage map is smaller than
the window (224 px inputs: 7 x 7 < 8).
"""
import torch
from mmpretrain.models.backbones import SwinTransformerV2

from eofm.registry import MODELS
from ..common.pretrained import (band_contract_args, band_contract_convert,
                                 load_pretrained, pretrained_init_cfg)

__all__ = ['SkySenseSwinV2', 'adapt_patch_embed', 'HR_RELEASE_BANDS']

#: The bands of the released HR weights (RGB; :mod:`eofm.structures.bands`).
HR_RELEASE_BANDS = ('R', 'G', 'B')

PATCH_KEY = 'patch_embed.projection.weight'


def adapt_patch_embed(weight, in_channels, red_index=0):
    """Adapt a (D, 3, k, k) RGB patch-embedding kernel to ``in_channels``.

    More channels (RGB + NIR...): the extra ones copy the red kernel (the rule of
    the SkySense release's converter). One channel: R + G + B. Two: R and G.
    """
    c = weight.shape[1]
    if c == in_channels:
        return weight
    if in_channels > c:
        extra = weight[:, red_index:red_index + 1].expand(-1, in_channels - c, -1, -1)
        return torch.cat([weight, extra], dim=1).contiguous()
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    return weight[:, :in_channels].contiguous()


@MODELS.register_module()
class SkySenseSwinV2(SwinTransformerV2):
    """SkySense g_HR (see the module docstring).

    Args:
        arch (str | dict): mmpretrain's archs ('huge' is SkySense's) or
            'skysense-tiny' (embed 32, depths [1, 1, 2, 1]) for CPU tests.
        in_channels (int): Input bands (3 RGB, 4 RGB+NIR, ...).
        window_size (int): 8 as released.
        pad_small_map (bool): Pad stage maps smaller than the window (True here,
            unlike mmpretrain's default; no effect on larger maps).
        red_index (int): Band whose kernel fills extra channels when 3-channel
            weights are loaded (without ``bands``).
        bands (Sequence[str], optional): Names of the input bands, in order. With
            them the release weights are adapted by name (the band contract,
            :mod:`eofm.structures.bands`) instead of by the channel-count rule.
        trained_bands (Sequence[str], optional): The bands the loaded weights were
            trained on (default: the release's, ``('R', 'G', 'B')``).
        band_policy (dict, optional): ``missing`` / ``extra`` policies of the band
            contract, e.g. ``dict(extra='copy:R')`` (the release converter's rule
            for RGB + NIR) or ``dict(extra='new')``.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...,
            prefix='backbone')`` loads a release file strictly.
        **kwargs: Other ``SwinTransformerV2`` arguments (``out_indices``,
            ``pad_small_map``, ``drop_path_rate``, ``with_cp``, ``frozen_stages``...).
    """

    #: Expected checkpoint mismatches (``eofm.utils.checkpoint``): mmpretrain
    #: rebuilds the window attention's relative-position buffers from
    #: ``window_size`` and drops them from any checkpoint it loads; the SimMIM
    #: ``mask_token`` belongs to the pretraining.
    checkpoint_exceptions = dict(
        missing=(r'.*\.relative_(coords_table|position_index)$', ),
        unexpected=(r'mask_token$', ))

    arch_zoo = {
        **SwinTransformerV2.arch_zoo,
        'skysense-tiny':
        dict(
            embed_dims=32,
            depths=[1, 1, 2, 1],
            num_heads=[1, 2, 4, 8],
            extra_norm_every_n_blocks=0),
        'skysense-small':
        dict(
            embed_dims=64,
            depths=[2, 2, 6, 2],
            num_heads=[2, 4, 8, 16],
            extra_norm_every_n_blocks=0),
    }

    def __init__(self,
                 arch='huge',
                 in_channels=3,
                 window_size=8,
                 pad_small_map=True,
                 red_index=0,
                 bands=None,
                 trained_bands=None,
                 band_policy=None,
                 init_cfg=None,
                 **kwargs):
        super().__init__(
            arch=arch,
            in_channels=in_channels,
            window_size=window_size,
            pad_small_map=pad_small_map,
            init_cfg=init_cfg,
            **kwargs)
        self.in_channels = in_channels
        self.red_index = red_index
        self.bands, self.band_policy = band_contract_args('SkySenseSwinV2', bands,
                                                          in_channels, band_policy)
        self.trained_bands = tuple(trained_bands or HR_RELEASE_BANDS)

    @property
    def out_channels(self):
        """Channels of each stage's output (e.g. [352, 704, 1408, 2816])."""
        return [self.embed_dims * 2**i for i in range(len(self.stages))]

    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()
            return
        checkpoint, prefix = pretrained

        def convert(state):
            if self.bands is not None:  # by name: the band contract
                return band_contract_convert('SkySenseSwinV2', PATCH_KEY,
                                             self.trained_bands, self.bands,
                                             self.band_policy, source=str(checkpoint))(state)
            if PATCH_KEY in state:
                state[PATCH_KEY] = adapt_patch_embed(state[PATCH_KEY], self.in_channels,
                                                     self.red_index)
            return state

        # Output norms of stages the release did not output, and the buffers that
        # mmpretrain rebuilds, may stay as initialised.
        allow = [rf'norm{i}\.' for i in self.out_indices if i != len(self.stages) - 1]
        allow.append(r'.*\.relative_(coords_table|position_index)$')
        load_pretrained(
            self,
            checkpoint,
            prefix or 'backbone',
            ignore_keys=('mask_token', ),
            allow_missing=allow,
            convert=convert)
        self._freeze_stages()
