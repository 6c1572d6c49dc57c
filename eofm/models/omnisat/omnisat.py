"""OmniSat (Astruc et al., ECCV 2024): the multi-modal patch encoder (backbone).

Paper Sec. 3.1, Fig. 2: every modality of a tile is cut into the same grid of metric
patches (TreeSatAI-TS: a 60 m tile in 6 x 6 patches of 10 m); a modality-specific
projector turns each patch into one d-dimensional token (aerial image: a residual
CNN, :class:`OmniSatAerialProjector`; Sentinel-2 / Sentinel-1 time series: an
L-TAE per pixel, :class:`eofm.LTAE`); the modality combining network
(:class:`OmniSatCombiner`) fuses the ``M x N`` tokens into one token per patch and a
tile token.

After OmniSat's ``OmniModule`` (``src/models/networks/encoder/Omni.py``) and the
TreeSatAI-TS configuration (``configs/model/network/encoder/Omni.yaml``), MIT; the
state-dict keys are the reference's (``projector_{m}``, ``cls_token``,
``pos_embed``, ``blocks``) with modality names spelled with ``_`` (``s1_asc`` for the
reference's ``s1-asc``), see :func:`convert_omnisat_reference_state_dict`. At the
TreeSatAI-TS defaults: 9,839,040 parameters; ``'pastis_hd'`` with ``spot``, ``s2``,
``s1_asc``: 10,348,864; ``'flair'`` with ``aerial``, ``s2``: 9,471,648.

Inputs (a dict, as :class:`eofm.MultiModalDataPreprocessor` gives them): the images
``aerial`` / ``spot`` (B, C, H, W); the series ``s2`` / ``s1_asc`` ... (B, T, C, h, w),
their days of year ``{m}_doy`` (or ``{m}_dates``) (B, T) and optionally
``{m}_date_mask`` (B, T, True for real dates; padded dates are masked in the L-TAE
attention; the reference has no padding mask).

Presets (``arch``), after the reference's experiment configurations:

* ``'treesatai_ts'``: 60 m tiles of 10 m patches (6 x 6); aerial 4 bands at 0.2 m
  (50 px per patch), one Sentinel pixel per patch (``Omni.yaml``).
* ``'pastis_hd'``: 1280 m tiles of 40 m patches (32 x 32 = 1024); SPOT 6-7 (``spot``,
  3 bands at 1 m, 40 px per patch); Sentinel patches of 4 x 4 pixels, flattened into
  the L-TAE's input channels (``C x 16`` per date, channel-major), as the reference's
  ``LTAE2dPastis`` (``Omni_Pastis.yaml``); Sentinel-1 with its 3 PASTIS-R channels
  (VV, VH, VV/VH; the reference's ``in_channels: 3``).
* ``'flair'``: 100 m tiles of 10 m patches (10 x 10); aerial 5 bands (R, G, B, NIR,
  elevation) at 0.2 m, one Sentinel-2 pixel per patch (``FLAIR_OmniSAT.yaml``).

A preset may carry ``modality_cfgs`` (dataset defaults of the modality specs); the
``modality_cfgs`` argument overrides them.
"""
import copy
from typing import Dict, Mapping, Optional, Sequence

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from eofm.registry import MODELS
from eofm.structures.batch_schema import date_mask_key, dates_key, doy_key
from ..common.ltae import LTAE
from ..common.pretrained import (chain_converts, load_pretrained, modality_band_converts,
                                 pretrained_init_cfg, unwrap_state_dict)
from ..common.patchify import patchify_aligned
from .aerial import OmniSatAerialProjector
from .combiner import OmniSatCombiner

__all__ = ['OmniSat', 'OMNISAT_MODALITIES', 'convert_omnisat_reference_state_dict']

#: Modality presets. ``kind`` 'image' (aerial projector) or 'series' (L-TAE);
#: ``in_channels`` per pixel; ``gsd`` in metres; ``accept_channels``: accepted input
#: channel counts that the encoder cuts to ``in_channels`` (the reference keeps S1's
#: VV and VH, dropping the third channel of the TreeSatAI-TS S1 files); ``T`` (series,
#: default 367): period of the L-TAE date encoding and rows of the decoder's date
#: table.
#: ``bands``: the band order of the benchmark files the reference trained each
#: modality on, as eofm's loaders read them (assumed from the datasets: TreeSatAI's
#: aerial NIR, G, B, R; PASTIS-HD's SPOT RGB; the ten 10 / 20 m Sentinel-2 bands;
#: Sentinel-1 VV, VH), the trained bands of the band contract.
_S1 = ('VV', 'VH')
OMNISAT_MODALITIES = {
    'aerial':
    dict(kind='image', in_channels=4, gsd=0.2, bands=('NIR', 'G', 'B', 'R')),
    'spot':
    dict(kind='image', in_channels=3, gsd=1.0, bands=('R', 'G', 'B')),
    's2':
    dict(kind='series', in_channels=10, gsd=10.0, in_norm=True,
         bands=('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')),
    's1_asc':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3),
         bands=_S1),
    's1_des':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3),
         bands=_S1),
    's1':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3),
         bands=_S1),
}


def convert_omnisat_reference_state_dict(state_dict: Mapping[str, torch.Tensor],
                                         encoder_prefix: str = 'backbone.',
                                         modality_names: Optional[Mapping[str,
                                                                          str]] = None):
    """Rename a reference OmniSat state dict (encoder or ``MAEOmni``) to eofm's keys.

    ``projector_s1-asc`` -> ``projector_s1_asc`` (and the other dashed modality
    names); a leading ``encoder.`` (``MAEOmni``) -> ``encoder_prefix``;
    ``modality_names`` renames further modalities, reference name -> eofm name (the
    reference's PASTIS-HD calls the SPOT image ``aerial``:
    ``modality_names=dict(aerial='spot')``). Other keys are unchanged.
    """
    renames = {
        d: d.replace('-', '_')
        for d in ('s1-asc', 's1-des', 's2-mono', 's1-mono')
    }
    renames.update(modality_names or {})
    out = {}
    for key, value in state_dict.items():
        new = key
        if new.startswith('encoder.'):
            new = encoder_prefix + new[len('encoder.'):]
        for ref, ours in renames.items():
            new = new.replace(f'projector_{ref}.', f'projector_{ours}.')
        out[new] = value
    return out


@MODELS.register_module()
class OmniSat(OmniSatCombiner):
    """OmniSat encoder: modality projectors + modality combining network.

    Args:
        arch (str | dict): ``'treesatai_ts'`` (d = 256, 6 blocks, 16 heads, 10 m
            patches of a 60 m tile, aerial at 0.2 m, S2 / S1 at 10 m),
            ``'pastis_hd'`` (40 m patches of a 1280 m tile), ``'flair'`` (10 m
            patches of a 100 m tile, 5-band aerial) or a dict of the same keys
            (``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio``, ``patch_size``,
            ``tile_size``; optionally ``modality_cfgs``).
        modalities (Sequence[str]): Modalities in token order. Default
            ``('aerial', 's2', 's1_asc')``, the reference's TreeSatAI-TS setting.
        modality_cfgs (dict, optional): Per modality overrides of
            :data:`OMNISAT_MODALITIES` and of the preset's ``modality_cfgs``
            (``in_channels``, ``gsd``, ``T``...), or the whole spec of a new modality.
            A series whose patch holds ``k x k`` pixels (``k = patch_size / gsd``) is
            encoded per patch with the ``k x k`` pixels flattened into the L-TAE's
            ``in_channels * k * k`` input channels.
        grid (str): Self-attention iRPE grid, ``'inferred'`` (reference) or
            ``'per_modality'``, see :class:`OmniSatCombiner`.
        drop_rate, attn_drop_rate, drop_path_rate (float): 0.2 each (reference).
        ltae_dropout (float): Dropout of the L-TAE MLPs. Default 0.2.
        bands (dict, optional): Modality -> the data's band names (the band contract,
            :mod:`eofm.structures.bands`): the projector is built for them and its
            input kernels are taken from the trained bands (the modality spec's
            ``bands``, or the checkpoint's data contract) by name when weights load.
        band_policy (dict, optional): ``dict(missing=..., extra=...)`` for every
            modality, or modality -> such a dict (a missing band is an error
            without one).
        out_type (str): ``'tuple'``: ``forward`` returns ``(patch_tokens (B, N, d),
            tile_token (B, d))``; ``'featmap'``: a 1-tuple with the patch tokens as a
            (B, d, gh, gw) map (for dense heads).
        init_cfg (dict, optional): mmengine init config. ``dict(type='Pretrained',
            checkpoint=..., prefix=None)`` loads strictly (see :meth:`init_weights`).
    """

    #: Prefixes tried, in order, when a checkpoint's keys are not this encoder's and
    #: ``init_cfg`` names none: eofm checkpoints, the reference's Lightning files
    #: (``model.encoder.``), its ``MAEOmni`` state dicts (``encoder.``).
    CHECKPOINT_PREFIXES = ('backbone.', 'model.encoder.', 'encoder.', 'model.backbone.')

    arch_zoo = {
        'treesatai_ts':
        dict(
            embed_dim=256,
            depth=6,
            num_heads=16,
            mlp_ratio=4.0,
            patch_size=10.0,
            tile_size=60.0),
        'pastis_hd':
        dict(
            embed_dim=256,
            depth=6,
            num_heads=16,
            mlp_ratio=4.0,
            patch_size=40.0,
            tile_size=1280.0,
            modality_cfgs=dict(
                s1_asc=dict(in_channels=3),
                s1_des=dict(in_channels=3),
                s1=dict(in_channels=3))),
        'flair':
        dict(
            embed_dim=256,
            depth=6,
            num_heads=16,
            mlp_ratio=4.0,
            patch_size=10.0,
            tile_size=100.0,
            modality_cfgs=dict(aerial=dict(in_channels=5,
                                           bands=('R', 'G', 'B', 'NIR', 'DEM')))),
    }

    def __init__(self,
                 arch='treesatai_ts',
                 modalities=('aerial', 's2', 's1_asc'),
                 modality_cfgs: Optional[Dict[str, dict]] = None,
                 grid: str = 'inferred',
                 drop_rate: float = 0.2,
                 attn_drop_rate: float = 0.2,
                 drop_path_rate: float = 0.2,
                 ltae_dropout: float = 0.2,
                 out_type: str = 'tuple',
                 bands: Optional[Dict[str, Sequence[str]]] = None,
                 band_policy: Optional[dict] = None,
                 init_cfg=None):
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'OmniSat: arch must be one of {list(self.arch_zoo)} '
                                 f'or a dict, got {arch!r}')
            arch = self.arch_zoo[arch]
        else:
            missing = set(self.arch_zoo['treesatai_ts']) - set(arch)
            if missing:
                raise ValueError(f'OmniSat: custom arch lacks {sorted(missing)}')
        if out_type not in ('tuple', 'featmap'):
            raise ValueError(f"OmniSat: out_type must be 'tuple' or 'featmap', got "
                             f'{out_type!r}')
        modalities = tuple(modalities)
        if not modalities or len(set(modalities)) != len(modalities):
            raise ValueError(f'OmniSat: modalities must be distinct and non-empty, got '
                             f'{modalities}')
        specs = {}
        for m in modalities:
            spec = copy.deepcopy(OMNISAT_MODALITIES.get(m, {}))
            spec.update((arch.get('modality_cfgs') or {}).get(m, {}))
            spec.update((modality_cfgs or {}).get(m, {}))
            if spec.get('kind') not in ('image', 'series') or 'in_channels' not in spec \
                    or 'gsd' not in spec:
                raise ValueError(
                    f'OmniSat: unknown modality {m!r}: give modality_cfgs[{m!r}] with '
                    f"kind ('image' or 'series'), in_channels and gsd; known: "
                    f'{list(OMNISAT_MODALITIES)}')
            specs[m] = spec
        given = {m: tuple(b) for m, b in (bands or {}).items()}
        unknown = sorted(set(given) - set(specs))
        if unknown:
            raise ValueError(f'OmniSat: bands given for {unknown}, which are not among '
                             f'the modalities {list(modalities)}')
        trained = {m: tuple(s['bands']) for m, s in specs.items() if s.get('bands')}
        for m, b in given.items():  # the projector takes the data's bands
            specs[m]['in_channels'] = len(b)
            specs[m].pop('accept_channels', None)
        patch, tile = float(arch['patch_size']), float(arch['tile_size'])
        ratio = tile / patch
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(f'OmniSat: the patch size {patch:g} m does not divide the '
                             f'tile of {tile:g} m')
        g = int(round(ratio))
        super().__init__(
            num_patches=g * g,
            grid_shape=(g, g),
            embed_dim=arch['embed_dim'],
            depth=arch['depth'],
            num_heads=arch['num_heads'],
            mlp_ratio=arch['mlp_ratio'],
            drop_rate=drop_rate,
            attn_drop_rate=attn_drop_rate,
            drop_path_rate=drop_path_rate,
            cross_drop_path_index=len(modalities) - 1,
            grid=grid,
            init_cfg=init_cfg)
        self.modalities, self.specs = modalities, specs
        self.bands, self.trained_bands = given, trained
        self.band_policy = dict(band_policy or {})
        self.patch_size, self.tile_size, self.out_type = patch, tile, out_type
        d = arch['embed_dim']
        for m, spec in specs.items():
            px = patch / spec['gsd']
            if px < 1 or abs(px - round(px)) > 1e-6:
                raise ValueError(
                    f'OmniSat: {m}: the GSD {spec["gsd"]} m does not divide '
                    f'the patch size {patch:g} m')
            spec['patch_px'] = k = int(round(px))
            if spec['kind'] == 'image':
                proj = OmniSatAerialProjector(spec['in_channels'], d, k,
                                              spec.get('gp_norm', 4))
            else:
                spec.setdefault('T', 367)
                proj = LTAE(
                    in_channels=spec['in_channels'] * k * k,
                    n_head=16,
                    d_k=8,
                    mlp_in=[32, 128, d],
                    mlp=[d, 2 * d, d],
                    dropout=ltae_dropout,
                    T=spec['T'],
                    in_norm=spec.get('in_norm', True),
                    return_att=True)
            self.add_module(f'projector_{m}', proj)

    # ------------------------------------------------------------------ weights
    def init_weights(self):
        """Initialise, or load ``init_cfg``'s checkpoint strictly.

        The file may be a reference OmniSat checkpoint (a Lightning file with
        ``state_dict`` keys ``model.encoder.*``, a ``MAEOmni`` state dict with
        ``encoder.*``, or the encoder alone; modality names dashed as
        ``projector_s1-asc``) or an eofm checkpoint (``backbone.*``). Dashed names are
        converted (:func:`convert_omnisat_reference_state_dict`) and, without a
        ``prefix``, the first of :attr:`CHECKPOINT_PREFIXES` that the file uses is
        taken. A parameter of this encoder the file lacks or holds with another
        shape, or an encoder key this model does not have, is an error naming the
        keys (MMEngine's ``Pretrained`` would load the rest and leave them at their
        initialisation with a warning).
        """
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()
            return
        ckpt, prefix = pretrained
        where = ckpt if isinstance(ckpt, str) else 'the given checkpoint'
        if isinstance(ckpt, str):
            ckpt = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
        state = convert_omnisat_reference_state_dict(
            unwrap_state_dict(ckpt), encoder_prefix='encoder.')
        own = set(self.state_dict())
        if prefix is None and not own & set(state):
            prefix = next((p for p in self.CHECKPOINT_PREFIXES
                           if any(k.startswith(p) for k in state)), None)
        layers = {
            m: (f'projector_{m}.proj.0.weight', 1) if s['kind'] == 'image' else
            (f'projector_{m}.inconv.0.weight', s['patch_px']**2)
            for m, s in self.specs.items()
        }
        converts = modality_band_converts('OmniSat', layers, self.bands,
                                          self.trained_bands, self.band_policy, ckpt,
                                          where)
        load_pretrained(
            self,
            state,
            prefix,
            convert=chain_converts(*converts),
            source=where,
            hint=('  Is it an OmniSat checkpoint of this preset and these modalities '
                  f'({list(self.modalities)})? Set init_cfg.prefix to the keys\' '
                  "prefix ('model.encoder.' for the reference's Lightning files)."))

    # ------------------------------------------------------------------ inputs
    def _image(self, m, x):
        spec = self.specs[m]
        if x.dim() != 4:
            raise ValueError(f'OmniSat: {m} must be (B, C, H, W), got {tuple(x.shape)}')
        if x.shape[1] != spec['in_channels']:
            raise ValueError(f'OmniSat: {m} has {x.shape[1]} channels, its projector '
                             f'expects {spec["in_channels"]}')
        return x

    def _series(self, m, x):
        spec = self.specs[m]
        if x.dim() != 5:
            raise ValueError(
                f'OmniSat: {m} must be (B, T, C, H, W), got {tuple(x.shape)}')
        c, c_in = x.shape[2], spec['in_channels']
        if c != c_in:
            if c in spec.get('accept_channels', ()) and c > c_in:
                x = x[:, :, :c_in]  # as the reference: keep the first channels
            else:
                raise ValueError(
                    f'OmniSat: {m} has {c} channels, its projector expects '
                    f'{c_in}')
        return x

    def _dates(self, m, batch, t):
        dates = batch.get(doy_key(m), batch.get(dates_key(m)))
        if dates is None:
            raise ValueError(f'OmniSat: the dates of {m} are missing: give {m}_doy '
                             f'(B, T) days of year')
        if not torch.is_tensor(dates) or dates.dim() != 2 or dates.shape[1] != t:
            raise ValueError(f'OmniSat: {m}_doy must be (B, {t}), got '
                             f'{getattr(dates, "shape", type(dates))}')
        mask = batch.get(date_mask_key(m))
        return dates, (None if mask is None else mask.bool())

    @staticmethod
    def flatten_series_patches(x: torch.Tensor, k: int) -> torch.Tensor:
        """(B, T, C, H, W) -> (B, T, C * k * k, H / k, W / k): the ``k x k`` pixels of
        every patch as channels, channel-major (``c * k * k + i * k + j`` for pixel
        (i, j) of the patch), the order of the reference's ``LTAE2dPastis``."""
        if k == 1:
            return x
        b, t, c, h, w = x.shape
        x = x.reshape(b, t, c, h // k, k, w // k, k).permute(0, 1, 2, 4, 6, 3, 5)
        return x.reshape(b, t, c * k * k, h // k, w // k)

    # --------------------------------------------------------------- forward
    def forward_proj(self, inputs: Mapping[str, torch.Tensor]):
        """Projectors: (B, M x N, d) tokens with positions, and per-modality outputs.

        The second value holds ``tokens_{m}`` (B, N, d) (without positions: the
        MIL-NCE inputs), for the aerial image ``indices_{m}`` / ``sizes_{m}`` (index
        bypass), for series ``attention_{m}`` (B, T), ``dates_{m}`` and
        ``date_mask_{m}``, ``input_{m}`` the checked input (image: its (B, N, C, p, p)
        patches; series: (B, T, C * k * k, gh, gw) with the channels the projector
        uses, ``k x k`` pixels per patch flattened as :meth:`flatten_series_patches`),
        and ``grid`` (gh, gw).
        """
        if not isinstance(inputs, Mapping):
            raise TypeError('OmniSat: inputs must be a dict of modality tensors')
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise ValueError(f'OmniSat: the batch lacks {missing} (model modalities '
                             f'{list(self.modalities)})')
        xs = {}
        for m in self.modalities:
            kind = self.specs[m]['kind']
            xs[m] = self._image(m, inputs[m]) if kind == 'image' else self._series(
                m, inputs[m])
        patches, grid = patchify_aligned(xs, {m: self.specs[m]['gsd']
                                              for m in xs}, self.patch_size)
        if tuple(grid) != self.grid_shape:
            raise ValueError(
                f'OmniSat: the tile gives a {grid[0]} x {grid[1]} patch grid, the model '
                f'is built for {self.grid_shape[0]} x {self.grid_shape[1]} '
                f'({self.tile_size:g} m tiles of {self.patch_size:g} m patches)')
        out, tokens = {'grid': grid}, []
        for m in self.modalities:
            proj = getattr(self, f'projector_{m}')
            if self.specs[m]['kind'] == 'image':
                tok, out[f'indices_{m}'], out[f'sizes_{m}'] = proj(patches[m])
            else:
                x = self.flatten_series_patches(xs[m], self.specs[m]['patch_px'])
                xs[m] = x
                dates, mask = self._dates(m, inputs, x.shape[1])
                feat, att = proj(x, dates, None if mask is None else ~mask)
                tok = feat.flatten(2).transpose(1, 2)
                out[f'attention_{m}'], out[f'dates_{m}'] = att, dates
                out[f'date_mask_{m}'] = mask
            out[f'tokens_{m}'] = tok
            out[f'input_{m}'] = patches[m] if self.specs[m]['kind'] == 'image' else xs[m]
            tokens.append(self.add_pos_embed(tok))
        return torch.cat(tokens, dim=1), out

    def forward_transformer(self, tokens: torch.Tensor) -> torch.Tensor:
        """Combining network on (B, M x N, d) tokens: (B, 1 + N, d)."""
        return OmniSatCombiner.forward(self, tokens, len(self.modalities))

    def forward(self, inputs: Mapping[str, torch.Tensor]):
        tokens, _ = self.forward_proj(inputs)
        x = self.forward_transformer(tokens)
        patch_tokens, tile = x[:, 1:], x[:, 0]
        if self.out_type == 'featmap':
            gh, gw = self.grid_shape
            return (patch_tokens.transpose(1, 2).reshape(x.shape[0], -1, gh, gw), )
        return patch_tokens, tile
