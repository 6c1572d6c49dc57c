"""msGFM's shared Swin encoder with per-sensor patch embeddings (paper Sec. 3.1-3.2).

:class:`MsGFMSwin` is mmpretrain's ``SwinTransformer`` (V1; msGFM uses Swin-B) with

* one patch embedding f_i per sensor (Sec. 3.1: "individual patch embeddings
  tailored to each specific sensor"), declared as ``sensors=dict(rgb=3, s2=12,
  s1=2, dsm=1)``; all map to the same C_e = ``embed_dims`` and feed the same
  encoder ``En`` (Sec. 3.2). ``forward(x, sensor)`` encodes one sensor's batch;
* the MLPs of some blocks replaced by :class:`MoEMlp` (Sec. 3.4, Table 10: 8
  experts, top-1, capacity factor 1.25). Table 10 lists the MoE blocks as
  "1, 3, 5, 7, 9, 11, 13, 15, 17 (every other swin block)"; only the 18-block third
  stage has such indices, so the default ``moe_blocks='every_other'`` with
  ``moe_stages=(2,)`` replaces the odd (0-based) blocks of stage index 2;
* an optional SimMIM mask token (``with_mask_token=True``, used by
  :class:`MsGFM`): masked patch tokens are replaced after the patch embedding.

The MoE auxiliary loss of the last ``forward`` is ``self.aux_loss`` (summed over
the MoE blocks). Patch size: the paper's text says 16 x 16, but msGFM follows the
GFM / SimMIM Swin-B (patch 4, window 6 at 192 px, encoder stride 32, 89M
parameters reported in Table 11 as for GFM); a patch of 16 would leave a 1.5-cell
last stage at 192 px. eofm's default is 4; ``patch_size`` is configurable.

:class:`MsGFMMultiSensor` is the downstream use of appendix C.2 (Fig. 6):
``mode='concat_features'`` encodes each sensor with the shared encoder and
concatenates the feature maps in channels; ``mode='stack_channels'`` (the paper's
choice for all its downstream results) stacks the sensors' bands before one patch
embedding of ``sum(C_i)`` channels, initialised from the per-sensor embeddings.
"""
import torch
import torch.nn as nn
from mmcv.cnn.bricks.transformer import PatchEmbed
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleDict
from mmpretrain.models.backbones import SwinTransformer

from eofm.registry import MODELS
from eofm.structures.batch_schema import date_mask_key
from .moe import MoEMlp

__all__ = ['MsGFMSwin', 'MsGFMMultiSensor', 'single_date']

DEFAULT_MOE = dict(
    num_experts=8,
    top_k=1,
    noisy_gating=True,
    capacity_factor=1.25,
    aux_loss='importance_load')


def single_date(inputs, key):
    """The (B, C, H, W) image of ``inputs[key]``; of a (B, T, C, H, W) series, the
    first valid date of each sample (``key + '_date_mask'``, else date 0)."""
    x = inputs[key]
    if x.dim() == 4:
        return x
    if x.dim() != 5:
        raise ValueError(f'{key}: expected (B, C, H, W) or (B, T, C, H, W), got '
                         f'{tuple(x.shape)}')
    valid = inputs.get(date_mask_key(key))
    if valid is None:
        return x[:, 0]
    first = valid.to(torch.int8).argmax(dim=1)  # 0 when no date is valid
    return x[torch.arange(x.shape[0], device=x.device), first]


class _MoEFFN(BaseModule):
    """Adapter with mmcv ``FFN``'s call ``ffn(x, identity)`` around a MoE MLP."""

    def __init__(self, moe, dropout_layer):
        super().__init__(init_cfg=None)
        self.moe = moe
        self.dropout_layer = dropout_layer

    def forward(self, x, identity=None):
        identity = x if identity is None else identity
        return identity + self.dropout_layer(self.moe(x))


@MODELS.register_module()
class MsGFMSwin(SwinTransformer):
    """msGFM's shared encoder (see the module docstring).

    Args:
        sensors (dict): Sensor name -> number of channels, one patch embedding
            each (names must be valid attribute names: ``rgb``, ``s2``...).
        arch (str | dict): 'base' (Swin-B, msGFM), CPU presets 'tiny' (embed 32,
            depths [2, 2, 2, 2]) and 'small' (embed 64, depths [2, 2, 6, 2]), or
            mmpretrain's other archs ('t', 's', 'l') or a dict.
        img_size (int): Nominal input size (192 in msGFM).
        patch_size (int): 4 (GFM / SimMIM code; the paper's text says 16).
        window_size (int): 6 for 192 px with patch 4 (GFM).
        moe_blocks (str | list | dict | None): 'every_other' (odd blocks of each
            stage in ``moe_stages``), 'all', a list of ``(stage, block)``, a dict
            ``{stage: [blocks]}``; None or [] for no MoE (Table 6 "w/o MoE").
        moe_stages (Sequence[int]): Stages of 'every_other' / 'all' (0-based).
        moe_cfg (dict): :class:`MoEMlp` arguments (defaults: 8 experts, top-1,
            capacity 1.25, importance + load loss).
        with_mask_token (bool): Create the SimMIM mask token (pretraining).
        pad_small_map (bool): Pad stage maps smaller than the window.
        **kwargs: Other ``SwinTransformer`` arguments (``out_indices``,
            ``drop_path_rate``, ``frozen_stages``, ``with_cp``, ``patch_cfg``...).
    """

    #: Expected checkpoint mismatches (``eofm.utils.checkpoint``): the SimMIM mask
    #: token of a pretraining checkpoint is not built downstream
    #: (``with_mask_token=False``).
    checkpoint_exceptions = dict(unexpected=(r'mask_token$', ))

    arch_zoo = {
        **SwinTransformer.arch_zoo,
        'tiny':
        dict(embed_dims=32, depths=[2, 2, 2, 2], num_heads=[1, 2, 4, 8]),
        'small':
        dict(embed_dims=64, depths=[2, 2, 6, 2], num_heads=[2, 4, 8, 16]),
    }

    def __init__(self,
                 sensors,
                 arch='base',
                 img_size=192,
                 patch_size=4,
                 window_size=6,
                 moe_blocks='every_other',
                 moe_stages=(2, ),
                 moe_cfg=None,
                 with_mask_token=False,
                 pad_small_map=True,
                 use_abs_pos_embed=False,
                 patch_cfg=dict(),
                 init_cfg=None,
                 **kwargs):
        if not sensors:
            raise ValueError('MsGFMSwin: sensors must declare at least one sensor, '
                             'e.g. sensors=dict(rgb=3, s2=12)')
        if use_abs_pos_embed:
            raise ValueError('MsGFMSwin: absolute position embeddings are not '
                             'supported (msGFM / SimMIM Swin use relative ones)')
        for name, ch in sensors.items():
            if not str(name).isidentifier() or int(ch) < 1:
                raise ValueError(f'MsGFMSwin: sensor {name!r} needs an identifier '
                                 f'name and a positive channel count, got {ch!r}')
        first = next(iter(sensors.values()))
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            in_channels=first,
            window_size=window_size,
            pad_small_map=pad_small_map,
            patch_cfg=patch_cfg,
            init_cfg=init_cfg,
            **kwargs)
        self.sensors = {k: int(v) for k, v in sensors.items()}
        self.patch_size = patch_size
        self.img_size = img_size
        self._patch_cfg = patch_cfg
        self.patch_embed = ModuleDict({
            name: self._make_patch_embed(ch)
            for name, ch in self.sensors.items()
        })
        self.mask_token = nn.Parameter(torch.zeros(
            1, 1, self.embed_dims)) if with_mask_token else None
        self.moe_cfg = dict(DEFAULT_MOE, **(moe_cfg or {}))
        self.moe_positions = self._resolve_moe_blocks(moe_blocks, moe_stages)
        for stage, block in self.moe_positions:
            blk = self.stages[stage].blocks[block]
            ffn = blk.ffn
            moe = MoEMlp(
                embed_dims=ffn.embed_dims,
                feedforward_channels=ffn.feedforward_channels,
                **self.moe_cfg)
            blk.ffn = _MoEFFN(moe, ffn.dropout_layer)
        self.aux_loss = None

    def _make_patch_embed(self, channels):
        cfg = dict(
            in_channels=channels,
            input_size=self.img_size,
            embed_dims=self.embed_dims,
            conv_type='Conv2d',
            kernel_size=self.patch_size,
            stride=self.patch_size,
            norm_cfg=dict(type='LN'))
        cfg.update(self._patch_cfg)
        return PatchEmbed(**cfg)

    def _resolve_moe_blocks(self, moe_blocks, moe_stages):
        if not moe_blocks:
            return []
        if isinstance(moe_blocks, str):
            if moe_blocks not in ('every_other', 'all'):
                raise ValueError("MsGFMSwin: moe_blocks must be 'every_other', 'all',"
                                 f' a list of (stage, block) or a dict, got '
                                 f'{moe_blocks!r}')
            step, start = (2, 1) if moe_blocks == 'every_other' else (1, 0)
            positions = []
            for s in moe_stages:
                if not 0 <= s < self.num_layers:
                    raise ValueError(f'MsGFMSwin: moe_stages has stage {s}, the '
                                     f'encoder has {self.num_layers} stages')
                positions += [(s, b) for b in range(start, self.depths[s], step)]
        elif isinstance(moe_blocks, dict):
            positions = [(int(s), int(b)) for s, bs in moe_blocks.items() for b in bs]
        else:
            positions = [(int(s), int(b)) for s, b in moe_blocks]
        for s, b in positions:
            if not (0 <= s < self.num_layers and 0 <= b < self.depths[s]):
                raise ValueError(f'MsGFMSwin: MoE block ({s}, {b}) does not exist '
                                 f'(depths {list(self.depths)})')
        return sorted(set(positions))

    @property
    def out_channels(self):
        """Channels of each stage's output (e.g. [128, 256, 512, 1024])."""
        return list(self.num_features)

    @property
    def encoder_stride(self):
        """Pixels per cell of the last stage (32 for patch 4 and 4 stages)."""
        return self.patch_size * 2**(self.num_layers - 1)

    def train(self, mode=True):
        """As mmpretrain's (frozen stages, ``norm_eval``), returning the module."""
        super().train(mode)
        return self

    def moe_layers(self):
        """The :class:`MoEMlp` modules, in order."""
        return [m for m in self.modules() if isinstance(m, MoEMlp)]

    def add_sensor(self, name, channels):
        """Declare a new sensor with a fresh patch embedding (fine-tuning)."""
        if name in self.sensors:
            raise ValueError(f'MsGFMSwin: sensor {name!r} is already declared')
        self.sensors[name] = int(channels)
        device = next(self.parameters()).device
        self.patch_embed[name] = self._make_patch_embed(int(channels)).to(device)

    def check_input(self, x, sensor):
        """Raise a clear error for an undeclared sensor or a wrong channel count."""
        if sensor not in self.sensors:
            raise KeyError(f'MsGFMSwin: sensor {sensor!r} is not declared; declared '
                           f'sensors: {self.sensors}')
        expected = self.sensors[sensor]
        if x.dim() != 4 or x.shape[1] != expected:
            raise ValueError(f'MsGFMSwin: sensor {sensor!r} expects (B, {expected}, '
                             f'H, W) inputs ({expected} channels), got '
                             f'{tuple(x.shape)}')

    def forward(self, x, sensor, mask=None):
        """Encode one sensor's batch.

        Args:
            x (Tensor): (B, C_sensor, H, W).
            sensor (str): A declared sensor.
            mask (Tensor, optional): (B, h, w) bool, True = masked, on the patch
                grid or a coarser grid that divides it (SimMIM mask patches).

        Returns:
            tuple[Tensor]: (B, C_i, H_i, W_i) maps of ``out_indices``.
        """
        self.check_input(x, sensor)
        x, hw_shape = self.patch_embed[sensor](x)
        if mask is not None:
            x = self._apply_mask(x, hw_shape, mask)
        x = self.drop_after_pos(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x, hw_shape = stage(x, hw_shape, do_downsample=self.out_after_downsample)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(x)
                outs.append(
                    out.view(-1, *hw_shape,
                             self.num_features[i]).permute(0, 3, 1, 2).contiguous())
            if stage.downsample is not None and not self.out_after_downsample:
                x, hw_shape = stage.downsample(x, hw_shape)
        losses = [m.aux_loss for m in self.moe_layers() if m.aux_loss is not None]
        self.aux_loss = torch.stack(losses).sum() if losses else x.new_zeros(())
        return tuple(outs)

    def _apply_mask(self, x, hw_shape, mask):
        if self.mask_token is None:
            raise RuntimeError('MsGFMSwin: a mask was given but the encoder has no '
                               'mask token (build it with with_mask_token=True)')
        h, w = hw_shape
        mh, mw = mask.shape[-2:]
        if h % mh or w % mw or h // mh != w // mw:
            raise ValueError(f'MsGFMSwin: mask grid {mh}x{mw} does not divide the '
                             f'patch grid {h}x{w}')
        scale = h // mh
        if scale > 1:
            mask = mask.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
        w_ = mask.flatten(1).unsqueeze(-1).to(x.dtype)
        return x * (1. - w_) + self.mask_token.to(x.dtype) * w_


@MODELS.register_module()
class MsGFMMultiSensor(BaseModule):
    """Multi-sensor downstream use of the msGFM encoder (appendix C.2, Fig. 6).

    Args:
        backbone (dict): An ``eofm.MsGFMSwin`` config (its ``sensors`` include
            those used here).
        sensors (Sequence[str]): Input keys / sensors used, in this order.
        mode (str): 'stack_channels' (Fig. 6 bottom, the paper's default: one
            patch embedding over the bands of all sensors, named ``stack_name``)
            or 'concat_features' (Fig. 6 top: shared encoder per sensor, feature
            maps concatenated in channels).
        stack_name (str): Name of the stacked sensor's patch embedding.
        stack_init (str): 'from_sensors' (after the backbone's weights are
            initialised or loaded, the stacked kernel is the per-sensor kernels
            side by side divided by the number of sensors, biases and norms
            averaged) or 'random'.
        input_keys (dict, optional): Sensor -> batch key it is read from
            (default: the sensor's name), e.g. ``dict(s2='s2_cloudy')``: SEN12MS-CR's
            cloudy Sentinel-2 through the pretrained ``s2`` embedding.
        band_index (dict, optional): Sensor -> positions of the input's bands among
            the sensor's pretrained bands, for inputs with fewer bands (e.g.
            BigEarthNet's 12-band L2A without B10 on an encoder pretrained with the
            13 SEN12MS L1C bands). The missing bands are zero-filled before the
            patch embedding: the pretrained embedding is used as is and the missing
            bands' kernels see no signal (the same as dropping those columns): the
            ``'mean'`` policy of the band contract (:mod:`eofm.structures.bands`),
            logged once.
        bands (dict, optional): Sensor -> names of the input's bands, with
            ``trained_bands`` (sensor -> the pretrained bands' names): the band
            contract by name instead of ``band_index`` positions (reordered by
            name; a missing band is an error unless ``band_policy`` says
            ``missing='mean'``; bands the weights never saw are an error).
        trained_bands (dict, optional): See ``bands``.
        band_policy (dict, optional): ``dict(missing='error' | 'mean')``.
        init_cfg (dict, optional): mmengine init config.

    ``forward(inputs)`` takes a dict of (B, C, H, W) tensors (or (B, T, C, H, W)
    series, of which the first valid date is used) and returns the tuple of
    feature maps. No masking is done downstream (appendix C.2). The MoE auxiliary
    loss of the call (summed over the sensors' passes) is ``self.aux_loss``.
    """

    MODES = ('stack_channels', 'concat_features')

    def __init__(self,
                 backbone,
                 sensors,
                 mode='stack_channels',
                 stack_name='stack',
                 stack_init='from_sensors',
                 input_keys=None,
                 band_index=None,
                 bands=None,
                 trained_bands=None,
                 band_policy=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        band_index = self._band_index_by_name(band_index, bands, trained_bands,
                                              band_policy)
        self.trained_bands = dict(trained_bands or {})
        if mode not in self.MODES:
            raise ValueError(f'MsGFMMultiSensor: mode must be one of {self.MODES}, '
                             f'got {mode!r}')
        if stack_init not in ('from_sensors', 'random'):
            raise ValueError("MsGFMMultiSensor: stack_init must be 'from_sensors' or "
                             f"'random', got {stack_init!r}")
        self.mode, self.sensors = mode, list(sensors)
        self.aux_loss = None
        self.stack_name, self.stack_init = stack_name, stack_init
        self.backbone = MODELS.build(backbone)
        missing = [s for s in self.sensors if s not in self.backbone.sensors]
        if missing:
            raise ValueError(f'MsGFMMultiSensor: sensors {missing} are not declared '
                             f'in the backbone ({self.backbone.sensors})')
        if mode == 'stack_channels':
            total = sum(self.backbone.sensors[s] for s in self.sensors)
            if stack_name in self.backbone.sensors:
                if self.backbone.sensors[stack_name] != total:
                    raise ValueError(
                        f'MsGFMMultiSensor: backbone sensor {stack_name!r} has '
                        f'{self.backbone.sensors[stack_name]} channels, the stacked '
                        f'sensors {self.sensors} have {total}')
            else:
                self.backbone.add_sensor(stack_name, total)
        self.input_keys = dict(input_keys or {})
        self.band_index = {
            k: [int(i) for i in v]
            for k, v in (band_index or {}).items()
        }
        for what, mapping in (('input_keys', self.input_keys), ('band_index',
                                                                self.band_index)):
            unknown = [s for s in mapping if s not in self.sensors]
            if unknown:
                raise ValueError(f'MsGFMMultiSensor: {what} names {unknown}, which '
                                 f'are not among the sensors {self.sensors}')
        for sensor, idx in self.band_index.items():
            total = self.backbone.sensors[sensor]
            if len(set(idx)) != len(idx) or not all(0 <= i < total for i in idx):
                raise ValueError(f'MsGFMMultiSensor: band_index.{sensor} must be '
                                 f'distinct positions in [0, {total}), got {idx}')
            absent = sorted(set(range(total)) - set(idx))
            if absent:
                names = self.trained_bands.get(sensor)
                what = [names[i] for i in absent] if names else absent
                print_log(f'MsGFMMultiSensor: {sensor} lacks the pretrained band(s) '
                          f'{what}: zero-filled after normalisation (the band '
                          "contract's 'mean' policy)", logger='current')

    @staticmethod
    def _band_index_by_name(band_index, bands, trained_bands, band_policy):
        """``band_index`` from band names (the band contract), logged once."""
        from eofm.structures.bands import plan_bands
        band_index = dict(band_index or {})
        policy = dict(band_policy or {})
        if set(policy) - {'missing'} or policy.get('missing', 'error') not in ('error',
                                                                              'mean'):
            raise ValueError("MsGFMMultiSensor: band_policy takes missing='error' or "
                             f"'mean' (zero-filled input bands), got {policy}")
        for sensor, given in (bands or {}).items():
            trained = (trained_bands or {}).get(sensor)
            if trained is None:
                raise ValueError(f'MsGFMMultiSensor: bands.{sensor} given without '
                                 f'trained_bands.{sensor} (the pretrained bands)')
            if sensor in band_index:
                raise ValueError(f'MsGFMMultiSensor: {sensor} has both band_index and '
                                 'bands; give one')
            plan = plan_bands(trained, given, policy.get('missing', 'error'), 'error',
                              where=f'MsGFMMultiSensor.{sensor}')
            band_index[sensor] = list(plan.source)
        return band_index

    @property
    def out_channels(self):
        factor = len(self.sensors) if self.mode == 'concat_features' else 1
        return [c * factor for c in self.backbone.out_channels]

    def init_weights(self):
        super().init_weights()
        if self.mode == 'stack_channels' and self.stack_init == 'from_sensors':
            self.init_stack_embedding()

    @torch.no_grad()
    def init_stack_embedding(self):
        """Stacked patch embedding from the per-sensor ones (see ``stack_init``)."""
        embeds = [self.backbone.patch_embed[s] for s in self.sensors]
        target = self.backbone.patch_embed[self.stack_name]
        n = len(embeds)
        target.projection.weight.copy_(
            torch.cat([e.projection.weight for e in embeds], dim=1) / n)
        if target.projection.bias is not None:
            target.projection.bias.copy_(sum(e.projection.bias for e in embeds) / n)
        if target.norm is not None:
            for name, p in target.norm.named_parameters():
                p.copy_(sum(dict(e.norm.named_parameters())[name] for e in embeds) / n)

    def _image(self, inputs, sensor):
        key = self.input_keys.get(sensor, sensor)
        if key not in inputs:
            raise KeyError(f'MsGFMMultiSensor: input {key!r} of sensor {sensor!r} is '
                           f'not in the inputs (keys: {sorted(inputs)})')
        x = single_date(inputs, key)
        idx = self.band_index.get(sensor)
        if idx is None:
            return x
        if x.shape[1] != len(idx):
            raise ValueError(f'MsGFMMultiSensor: {key!r} has {x.shape[1]} bands, '
                             f'band_index.{sensor} lists {len(idx)}')
        full = x.new_zeros(x.shape[0], self.backbone.sensors[sensor], *x.shape[2:])
        full[:, idx] = x
        return full

    def forward(self, inputs):
        images = [self._image(inputs, s) for s in self.sensors]
        if self.mode == 'stack_channels':
            sizes = {tuple(x.shape[-2:]) for x in images}
            if len(sizes) > 1:
                raise ValueError(f'MsGFMMultiSensor: stacking needs one image size, '
                                 f'got {dict(zip(self.sensors, sizes))}')
            outs = self.backbone(torch.cat(images, dim=1), self.stack_name)
            self.aux_loss = self.backbone.aux_loss
            return outs
        outs, aux = [], []
        for x, s in zip(images, self.sensors):
            outs.append(self.backbone(x, s))
            aux.append(self.backbone.aux_loss)
        self.aux_loss = torch.stack(aux).sum()
        merged = []
        for level in zip(*outs):
            sizes = {tuple(t.shape[-2:]) for t in level}
            if len(sizes) > 1:
                raise ValueError(f'MsGFMMultiSensor: feature maps of the sensors '
                                 f'differ in size {sorted(sizes)}; resample the '
                                 'sensors to one size in the pipeline')
            merged.append(torch.cat(level, dim=1))
        return tuple(merged)
