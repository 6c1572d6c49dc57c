"""SkySense: the factorized multi-modal spatiotemporal encoder as one backbone.

Paper Sec. 3.2 and supplementary L (Fig. K15). The parts, each its own module:

* spatial encoders g_HR (:class:`SkySenseSwinV2`), g_Ms and g_SAR
  (:class:`SkySenseViT`), run on every image / date (Eq. 1);
* up heads (:class:`SkySenseUpHead`) lifting the ViT features to the HR encoder's
  last-stage width and grid;
* the multi-modal temporal fusion (:class:`MultiModalTemporalFusion`, Eq. 2) over
  the per-location sequence [HR, S2 dates, S1 dates] with the date encoding;
* the optional attentional geo-context integration (:class:`GeoContextIntegration`,
  Eq. 3) when samples carry lon/lat.

The three usage modes of Fig. K15 are configurations of this class:

* single-modal static: ``modalities=('hr',), use_fusion=False`` gives the HR
  encoder's multi-scale features (for UperNet / FPN / a classifier neck);
* single-modal temporal: ``modalities=('s2',)`` (encoder + fusion);
* multi-modal: any subset of ``('hr', 's2', 's1')`` with the fusion, optionally
  ``geo_context=True``.

Inputs are the batch dict of :class:`eofm.models.MultiModalDataPreprocessor`
(``hr`` (B, C, H, W), ``s2`` (B, T, C, H, W), ``s2_doy``, ``s2_date_mask``,
``{m}_present``, ``lonlat``) or, with one modality, its tensor. Pixels that a
``{m}_mask`` (B, [T,] H, W) marks invalid are set to 0 (the normalised mean) before
the encoders, so the output does not depend on what lies under the mask; dates
masked by ``{m}_date_mask`` are left out of the fusion.
"""
import copy

import torch
from mmengine.model import BaseModule, ModuleDict
from torch.profiler import record_function

from eofm.registry import MODELS
from eofm.structures import zero_invalid_pixels
from eofm.structures.batch_schema import LONLAT, date_mask_key, doy_key, present_key
from ..common.pretrained import (chain_converts, load_pretrained, modality_band_converts,
                                 pretrained_init_cfg, select_prefix, unwrap_state_dict)
from .outputs import SkySenseOutputs, valid_date_mean
from .vit import DATE_TABLE_KEYS

__all__ = ['SkySense']

SERIES = ('s2', 's1')


def _release_layout_date_table(state):
    """``s2.ctpe`` (the release's place of the date table) -> ``fusion.ctpe``."""
    if 's2.ctpe' in state and 'fusion.ctpe' not in state:
        state = dict(state)
        state['fusion.ctpe'] = state.pop('s2.ctpe')
    return state


def _merge(base, override):
    cfg = copy.deepcopy(base)
    cfg.update(override or {})
    return cfg


@MODELS.register_module()
class SkySense(BaseModule):
    """SkySense backbone (see the module docstring).

    Args:
        arch (str): 'huge' (the paper: Swin V2-H, ViT-L, 24-layer 1024-d fusion,
            4096 x 100 prototypes), 'small' or 'tiny' (CPU tests and demos).
        modalities (Sequence[str]): Encoders to build, a subset of
            ('hr', 's2', 's1').
        use_fusion (bool): Fuse with the temporal fusion transformer. Without it
            only one modality is allowed and its encoder's features are returned.
        geo_context (bool): Concatenate the geo-context of the samples' lon/lat
            (needs the fusion); outputs 2 x fusion width channels.
        date_encoding (str): 's2' (the release: Sentinel-2 dates only), 'all'
            (every dated token, paper Eq. 2) or 'none'.
        max_dates (dict, optional): Longest series per modality, e.g.
            ``dict(s2=20, s1=10)``; longer inputs raise an error.
        frozen (Sequence[str]): Parts kept frozen (no gradients, eval mode): any
            of 'hr', 's2', 's1', 'up_heads', 'fusion', 'geo_context'.
        out_type (str): With the fusion: 'fusion' gives ``(F_fus,)``;
            'hr_and_fusion' gives the HR multi-scale features with ``F_fus``
            appended (needs 'hr').
        with_cp (bool): Activation checkpointing in every encoder and the fusion.
        hr, s2, s1, up_head, fusion, geo (dict, optional): Overrides of the parts'
            arguments (``out_indices``, ``in_channels``, ``drop_path_rate``,
            ``init_cfg=dict(type='Pretrained', checkpoint=...)`` for a release
            file, ...). ``up_head`` applies to both heads;
            ``up_heads=dict(s2=..., s1=...)`` to one each.
        init_cfg (dict, optional): ``Pretrained`` with an eofm checkpoint of the
            whole backbone (``tools/model_converters/skysense2eofm.py``).
    """

    #: One FSDP unit (:func:`eofm.skysense_block_wrap_policy`).
    fsdp_wrap = True

    arch_zoo = {
        'huge':
        dict(
            hr=dict(arch='huge'),
            vit=dict(arch='large'),
            fusion=dict(
                embed_dims=1024, num_layers=24, num_heads=16, drop_path_rate=0.3),
            geo=dict(num_prototypes=100, n_lat=64, n_lon=64)),
        'small':
        dict(
            hr=dict(arch='skysense-small'),
            vit=dict(arch='skysense-small'),
            fusion=dict(embed_dims=192, num_layers=4, num_heads=3, drop_path_rate=0.1),
            geo=dict(num_prototypes=16, n_lat=8, n_lon=16)),
        'tiny':
        dict(
            hr=dict(arch='skysense-tiny'),
            vit=dict(arch='skysense-tiny'),
            fusion=dict(embed_dims=64, num_layers=2, num_heads=2, drop_path_rate=0.0),
            geo=dict(num_prototypes=8, n_lat=4, n_lon=8)),
    }
    PARTS = ('hr', 's2', 's1', 'up_heads', 'fusion', 'geo_context')

    def __init__(self,
                 arch='huge',
                 modalities=('hr', 's2', 's1'),
                 use_fusion=True,
                 geo_context=False,
                 date_encoding='s2',
                 max_dates=None,
                 frozen=(),
                 out_type='fusion',
                 with_cp=False,
                 hr=None,
                 s2=None,
                 s1=None,
                 up_head=None,
                 up_heads=None,
                 fusion=None,
                 geo=None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self._validate(arch, modalities, use_fusion, geo_context, date_encoding, frozen,
                       out_type)
        zoo = self.arch_zoo[arch]
        self.arch, self.modalities = arch, tuple(modalities)
        self.use_fusion, self.date_encoding = use_fusion, date_encoding
        self.max_dates, self.out_type = dict(max_dates or {}), out_type
        self.frozen = tuple(frozen)
        cp = dict(with_cp=True) if with_cp else {}
        if 'hr' in self.modalities:
            self.hr = MODELS.build(
                _merge(dict(type='eofm.SkySenseSwinV2', **zoo['hr'], **cp), hr))
        hr_dims = MODELS.get('eofm.SkySenseSwinV2').arch_zoo[zoo['hr']
                                                             ['arch']]['embed_dims'] * 8
        token_dims = self.hr.out_channels[-1] if 'hr' in self.modalities else hr_dims
        #: Width of the per-date tokens the fusion takes (the HR encoder's last stage).
        self.token_dims = token_dims
        for m, override in (('s2', s2), ('s1', s1)):
            if m in self.modalities:
                vit = dict(
                    type='eofm.SkySenseViT',
                    **zoo['vit'],
                    **cp,
                    in_channels=10 if m == 's2' else 2)
                setattr(self, m, MODELS.build(_merge(vit, override)))
        series = [m for m in SERIES if m in self.modalities]
        if use_fusion and series:
            per_head = up_heads or {}
            self.up_heads = ModuleDict({
                m:
                MODELS.build(
                    _merge(
                        _merge(
                            dict(
                                type='eofm.SkySenseUpHead',
                                in_channels=getattr(self, m).embed_dims,
                                out_channels=token_dims), up_head), per_head.get(m)))
                for m in series
            })
        if use_fusion:
            # The fusion owns the date table (Eq. 2); see _date_table_keys.
            self.fusion = MODELS.build(
                _merge(
                    dict(
                        type='eofm.MultiModalTemporalFusion',
                        in_channels=token_dims,
                        with_date_table=date_encoding != 'none',
                        **zoo['fusion'],
                        **cp), fusion))
        if geo_context:
            self.geo_context = MODELS.build(
                _merge(
                    dict(
                        type='eofm.GeoContextIntegration',
                        embed_dims=self.fusion.embed_dims,
                        **zoo['geo']), geo))
        self._freeze()
        self._register_load_state_dict_pre_hook(self._date_table_keys)

    @staticmethod
    def _date_table_keys(state_dict, prefix, *args):
        """Checkpoints in the release's layout keep the fusion's date table with the
        Sentinel-2 encoder (``s2.ctpe``, as eofm did before it moved to its owner):
        it loads as ``fusion.ctpe``."""
        old, new = f'{prefix}s2.ctpe', f'{prefix}fusion.ctpe'
        if old in state_dict and new not in state_dict:
            state_dict[new] = state_dict.pop(old)

    @staticmethod
    def _validate(arch, modalities, use_fusion, geo_context, date_encoding, frozen,
                  out_type):
        if arch not in SkySense.arch_zoo:
            raise ValueError(
                f'SkySense: arch must be one of {list(SkySense.arch_zoo)}, '
                f'got {arch!r}')
        bad = [m for m in modalities if m not in ('hr', ) + SERIES]
        if bad or not modalities:
            raise ValueError(f"SkySense: modalities must be a non-empty subset of "
                             f"('hr', 's2', 's1'), got {tuple(modalities)}")
        if not use_fusion and len(modalities) != 1:
            raise ValueError('SkySense: without the fusion (use_fusion=False) exactly '
                             f'one modality is allowed, got {tuple(modalities)}')
        if geo_context and not use_fusion:
            raise ValueError('SkySense: geo_context attends fused features to the '
                             '1024-d prototypes; it needs use_fusion=True')
        if date_encoding not in ('s2', 'all', 'none'):
            raise ValueError(f"SkySense: date_encoding must be 's2', 'all' or 'none', "
                             f'got {date_encoding!r}')
        if any(f not in SkySense.PARTS for f in frozen):
            raise ValueError(f'SkySense: frozen parts must be among {SkySense.PARTS}, '
                             f'got {tuple(frozen)}')
        if out_type not in ('fusion', 'hr_and_fusion'):
            raise ValueError(f"SkySense: out_type must be 'fusion' or 'hr_and_fusion', "
                             f'got {out_type!r}')
        if out_type == 'hr_and_fusion' and 'hr' not in modalities:
            raise ValueError(
                "SkySense: out_type='hr_and_fusion' needs the 'hr' modality")

    # ------------------------------------------------------------------ weights
    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()  # every part: its own init or its release file
            self._load_release_date_table()
            return
        # A whole-backbone eofm checkpoint: geo prototypes were never released and
        # may stay initialised when absent.
        checkpoint = pretrained[0]
        if isinstance(checkpoint, str):
            from mmengine.runner import CheckpointLoader
            checkpoint = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        band_converts = self._band_contract_converts(checkpoint, str(pretrained[0]))
        # a backbone without the geo-context takes the rest of one pretrained with it
        # (its prototype bank is a pretraining product, logged as skipped)
        ignore = () if hasattr(self, 'geo_context') else tuple(
            k for k in select_prefix(unwrap_state_dict(checkpoint), pretrained[1] or
                                     'backbone') if k.startswith('geo_context.'))

        load_pretrained(
            self,
            checkpoint,
            pretrained[1] or 'backbone',
            allow_missing=(r'geo_context\.', r'.*\.relative_', r'hr\.norm[0-2]\.'),
            ignore_keys=ignore,
            convert=chain_converts(_release_layout_date_table, *band_converts),
            source=str(pretrained[0]))
        self._freeze()

    def _band_contract_converts(self, checkpoint, source):
        """The band contract of each encoder whose ``bands`` are given, for a
        whole-backbone checkpoint: the trained bands are those the checkpoint's data
        contract records for the modality (eofm checkpoints), else the encoder's
        ``trained_bands``."""
        encs = {m: getattr(self, m) for m in self.modalities
                if getattr(getattr(self, m), 'bands', None) is not None}
        return modality_band_converts(
            'SkySense', {m: (f'{m}.patch_embed.projection.weight', 1) for m in encs},
            {m: e.bands for m, e in encs.items()},
            {m: e.trained_bands for m, e in encs.items()},
            {m: e.band_policy for m, e in encs.items()}, checkpoint, source,
            trained_hint='{m}=dict(trained_bands=[...])')

    def _load_release_date_table(self):
        """With the release's Sentinel-2 file as the S2 encoder's ``init_cfg``, give
        the date table it holds (``ctpe``) to the fusion, its owner in eofm."""
        s2_file = pretrained_init_cfg(getattr(getattr(self, 's2', None), 'init_cfg', None))
        if s2_file is None or not hasattr(getattr(self, 'fusion', None), 'ctpe'):
            return
        load_pretrained(
            self.fusion,
            s2_file[0],
            s2_file[1] or 'backbone',
            convert=lambda state: {k: v for k, v in state.items() if k in DATE_TABLE_KEYS},
            allow_missing=(r'(?!ctpe$)', ),
            hint='the release\'s Sentinel-2 file holds the date table `ctpe` (1, 365, '
            f'{self.fusion.in_channels}) of the fusion')

    def _freeze(self):
        for name in self.frozen:
            part = getattr(self, name, None)
            if part is None:
                continue
            part.eval()
            for p in part.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        if mode:
            for name in self.frozen:
                part = getattr(self, name, None)
                if part is not None:
                    part.eval()
        return self

    # ------------------------------------------------------------------ forward
    def _as_dict(self, inputs):
        if isinstance(inputs, dict):
            # pixels the batch marks invalid ({m}_mask) are 0 whatever the files
            # held there: the output never depends on what lies under the mask
            return zero_invalid_pixels(inputs)
        if len(self.modalities) != 1:
            raise ValueError(f'SkySense: a tensor input needs a single-modality model; '
                             f'this one has {self.modalities}: pass the batch dict')
        return {self.modalities[0]: inputs}

    def _encode_series(self, m, x, batch):
        if x.dim() == 4:  # one date
            x = x[:, None]
        if x.dim() != 5:
            raise ValueError(f'SkySense: {m} must be (B, T, C, H, W), got '
                             f'{tuple(x.shape)}')
        enc = getattr(self, m)
        if x.shape[2] != enc.in_channels:
            raise ValueError(f'SkySense: {m} has {x.shape[2]} bands, its encoder '
                             f'expects {enc.in_channels}')
        limit = self.max_dates.get(m)
        if limit is not None and x.shape[1] > limit:
            raise ValueError(f'SkySense: {m} has {x.shape[1]} dates, more than '
                             f'max_dates.{m}={limit}; sample fewer with TemporalSample')
        b, t = x.shape[:2]
        valid = batch.get(date_mask_key(m))
        valid = torch.ones(b, t, dtype=torch.bool, device=x.device) if valid is None \
            else valid.bool()
        present = batch.get(present_key(m))
        if present is not None:
            valid = valid & present.bool()[:, None]
        doy = batch.get(doy_key(m))
        if doy is None:
            doy = torch.zeros(b, t, dtype=torch.long, device=x.device)
        feats = enc.forward_series(x, valid)  # (B, T, D, h, w)
        return feats, doy.long(), valid

    def _check_hr(self, x):
        if x.dim() != 4 or x.shape[1] != self.hr.in_channels:
            raise ValueError(f'SkySense: hr must be (B, {self.hr.in_channels}, H, W), '
                             f'got {tuple(x.shape)}')

    def forward(self, inputs):
        """Backbone outputs (see the class docstring) as :class:`SkySenseOutputs`: a
        tuple of maps, with the dict of :meth:`forward_features` as ``features`` on
        the fused path (read by the pretraining through ``forward``, so that
        wrappers such as FSDP gather the parameters)."""
        batch = self._as_dict(inputs)
        missing = [m for m in self.modalities if m not in batch]
        if len(missing) == len(self.modalities):
            raise ValueError(f'SkySense: the batch has none of {self.modalities} '
                             f'(keys: {sorted(batch)})')
        if not self.use_fusion:
            m = self.modalities[0]
            x = batch[m]
            if m == 'hr':
                self._check_hr(x)
                return SkySenseOutputs(self.hr(x))
            return SkySenseOutputs(getattr(self, m)(x) if x.dim() == 4 else (
                self._encode_series(m, x, batch)[0], ))
        return self._forward_fused(batch)

    def forward_features(self, batch):
        """Every intermediate of the fused path (used by the pretraining).

        Returns:
            dict: ``tokens`` {modality: (B, T, C, h, w)} (the F_i of Eq. 1, HR with
            T = 1), ``valid`` {modality: (B, T)}, ``hr_outs`` (the HR encoder's
            outputs or None), ``fused_mm`` (F_fus^mm, (B, D, h, w)) and ``fused``
            (F_fus: with the geo-context when enabled, else F_fus^mm).
        """
        return self._features(zero_invalid_pixels(batch))

    def named_features(self, batch):
        """The fused path's feature maps by name, each (B, C, h, w) on the fusion grid:
        ``'fused'`` (F_fus), ``'fused_mm'`` (F_fus^mm, before the geo-context) and
        one per modality (its encoder's tokens F_i averaged over the valid dates) --
        what the probe tool's ``--feature`` reads, to measure each part."""
        out = self.forward_features(batch)
        maps = dict(fused=out['fused'], fused_mm=out['fused_mm'])
        for m, tokens in out['tokens'].items():
            maps[m] = valid_date_mean(tokens, out['valid'][m])
        return maps

    def _features(self, batch):
        tokens, doys, valids, hr_outs = {}, {}, {}, None
        for m in self.modalities:
            if m not in batch:
                continue
            x = batch[m]
            if m == 'hr':
                self._check_hr(x)
                with record_function('skysense.hr'):
                    hr_outs = self.hr(x)
                feat = hr_outs[-1]
                b = feat.shape[0]
                tokens[m] = feat[:, None]
                doys[m] = torch.zeros(b, 1, dtype=torch.long, device=feat.device)
                present = batch.get('hr_present')
                valids[m] = torch.ones(b, 1, dtype=torch.bool, device=feat.device) \
                    if present is None else present.bool()[:, None]
            else:
                with record_function(f'skysense.{m}'):
                    feats, doy, valid = self._encode_series(m, x, batch)
                b, t = feats.shape[:2]
                with record_function('skysense.up_heads'):
                    up = self.up_heads[m](feats.flatten(0, 1))
                tokens[m] = up.view(b, t, *up.shape[1:])
                use_date = self.date_encoding == 'all' or (self.date_encoding == 's2'
                                                           and m == 's2')
                doys[m] = doy if use_date else torch.zeros_like(doy)
                valids[m] = valid
        grids = {m: tuple(t.shape[-2:]) for m, t in tokens.items()}
        if len(set(grids.values())) > 1:
            raise ValueError(
                f'SkySense: the modalities give feature grids of '
                f'different sizes {grids}; their footprints must match and '
                'the up heads\' scale must be (HR px per Sentinel px) x '
                'patch / 32 (the release: HR 2048 px with Sentinel 64 px '
                'and scale 4; set up_head=dict(scale=...))')
        with record_function('skysense.fusion'):
            fused_mm = self.fusion(
                torch.cat(list(tokens.values()), 1),
                torch.cat(list(doys.values()), 1),
                torch.cat(list(valids.values()), 1))
        fused = fused_mm
        if hasattr(self, 'geo_context'):
            with record_function('skysense.geo_context'):
                fused = self.geo_context(fused_mm, batch.get(LONLAT))
        return dict(
            tokens=tokens,
            valid=valids,
            hr_outs=hr_outs,
            fused_mm=fused_mm,
            fused=fused)

    def _forward_fused(self, batch):
        out = self._features(batch)
        if self.out_type == 'hr_and_fusion':
            return SkySenseOutputs(tuple(out['hr_outs']) + (out['fused'], ), out)
        return SkySenseOutputs((out['fused'], ), out)
