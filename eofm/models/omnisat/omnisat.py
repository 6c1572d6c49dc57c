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
TreeSatAI-TS defaults: 9,839,040 parameters.

Inputs (a dict, as :class:`eofm.MultiModalDataPreprocessor` gives them): the image
``aerial`` (B, C, H, W); the series ``s2`` / ``s1_asc`` ... (B, T, C, h, w) with one
pixel per patch, their days of year ``{m}_doy`` (or ``{m}_dates``) (B, T) and
optionally ``{m}_date_mask`` (B, T, True for real dates; padded dates are masked in
the L-TAE attention; the reference has no padding mask).
"""
import copy
from typing import Dict, Mapping, Optional

import torch

from eofm.registry import MODELS
from ..layers.ltae import LTAE
from ..layers.patchify import patchify_aligned
from .aerial import OmniSatAerialProjector
from .combiner import OmniSatCombiner

__all__ = ['OmniSat', 'OMNISAT_MODALITIES', 'convert_omnisat_reference_state_dict']

#: Modality presets. ``kind`` 'image' (aerial projector) or 'series' (L-TAE);
#: ``gsd`` in metres; ``extra_channels_dropped``: accepted input channel counts that
#: the encoder cuts to ``in_channels`` (the reference keeps S1's VV and VH, dropping
#: the third channel of the TreeSatAI-TS S1 files).
OMNISAT_MODALITIES = {
    'aerial':
    dict(kind='image', in_channels=4, gsd=0.2),
    's2':
    dict(kind='series', in_channels=10, gsd=10.0, in_norm=True),
    's1_asc':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3)),
    's1_des':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3)),
    's1':
    dict(kind='series', in_channels=2, gsd=10.0, in_norm=False, accept_channels=(2, 3)),
}


def convert_omnisat_reference_state_dict(state_dict: Mapping[str, torch.Tensor],
                                         encoder_prefix: str = 'backbone.'):
    """Rename a reference OmniSat state dict (encoder or ``MAEOmni``) to eofm's keys.

    ``projector_s1-asc`` -> ``projector_s1_asc`` (and the other dashed modality
    names); a leading ``encoder.`` (``MAEOmni``) -> ``encoder_prefix``. Other keys are
    unchanged.
    """
    out = {}
    for key, value in state_dict.items():
        new = key
        if new.startswith('encoder.'):
            new = encoder_prefix + new[len('encoder.'):]
        for dashed in ('s1-asc', 's1-des', 's2-mono', 's1-mono'):
            new = new.replace('projector_' + dashed,
                              'projector_' + dashed.replace('-', '_'))
        out[new] = value
    return out


@MODELS.register_module()
class OmniSat(OmniSatCombiner):
    """OmniSat encoder: modality projectors + modality combining network.

    Args:
        arch (str | dict): ``'treesatai_ts'`` (d = 256, 6 blocks, 16 heads, 10 m
            patches of a 60 m tile, aerial at 0.2 m, S2 / S1 at 10 m) or a dict of the
            same keys (``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio``,
            ``patch_size``, ``tile_size``).
        modalities (Sequence[str]): Modalities in token order. Default
            ``('aerial', 's2', 's1_asc')``, the reference's TreeSatAI-TS setting.
        modality_cfgs (dict, optional): Per modality overrides of
            :data:`OMNISAT_MODALITIES` (``in_channels``, ``gsd``...), or the whole
            spec of a new modality.
        grid (str): Self-attention iRPE grid, ``'inferred'`` (reference) or
            ``'per_modality'``, see :class:`OmniSatCombiner`.
        drop_rate, attn_drop_rate, drop_path_rate (float): 0.2 each (reference).
        ltae_dropout (float): Dropout of the L-TAE MLPs. Default 0.2.
        out_type (str): ``'tuple'``: ``forward`` returns ``(patch_tokens (B, N, d),
            tile_token (B, d))``; ``'featmap'``: a 1-tuple with the patch tokens as a
            (B, d, gh, gw) map (for dense heads).
        init_cfg (dict, optional): mmengine init config.
    """

    arch_zoo = {
        'treesatai_ts':
        dict(
            embed_dim=256,
            depth=6,
            num_heads=16,
            mlp_ratio=4.0,
            patch_size=10.0,
            tile_size=60.0),
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
            spec.update((modality_cfgs or {}).get(m, {}))
            if spec.get('kind') not in ('image', 'series') or 'in_channels' not in spec \
                    or 'gsd' not in spec:
                raise ValueError(
                    f'OmniSat: unknown modality {m!r}: give modality_cfgs[{m!r}] with '
                    f"kind ('image' or 'series'), in_channels and gsd; known: "
                    f'{list(OMNISAT_MODALITIES)}')
            specs[m] = spec
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
        self.patch_size, self.tile_size, self.out_type = patch, tile, out_type
        d = arch['embed_dim']
        for m, spec in specs.items():
            px = patch / spec['gsd']
            if px < 1 or abs(px - round(px)) > 1e-6:
                raise ValueError(
                    f'OmniSat: {m}: the GSD {spec["gsd"]} m does not divide '
                    f'the patch size {patch:g} m')
            if spec['kind'] == 'image':
                proj = OmniSatAerialProjector(spec['in_channels'], d, int(round(px)),
                                              spec.get('gp_norm', 4))
            else:
                if int(round(px)) != 1:
                    raise ValueError(
                        f'OmniSat: {m}: the L-TAE projector encodes one pixel per '
                        f'patch; the {patch:g} m patch holds {px:g} px at '
                        f'{spec["gsd"]} m')
                proj = LTAE(
                    in_channels=spec['in_channels'],
                    n_head=16,
                    d_k=8,
                    mlp_in=[32, 128, d],
                    mlp=[d, 2 * d, d],
                    dropout=ltae_dropout,
                    T=367,
                    in_norm=spec.get('in_norm', True),
                    return_att=True)
            self.add_module(f'projector_{m}', proj)

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
        dates = batch.get(f'{m}_doy', batch.get(f'{m}_dates'))
        if dates is None:
            raise ValueError(f'OmniSat: the dates of {m} are missing: give {m}_doy '
                             f'(B, T) days of year')
        if not torch.is_tensor(dates) or dates.dim() != 2 or dates.shape[1] != t:
            raise ValueError(f'OmniSat: {m}_doy must be (B, {t}), got '
                             f'{getattr(dates, "shape", type(dates))}')
        mask = batch.get(f'{m}_date_mask')
        return dates, (None if mask is None else mask.bool())

    # --------------------------------------------------------------- forward
    def forward_proj(self, inputs: Mapping[str, torch.Tensor]):
        """Projectors: (B, M x N, d) tokens with positions, and per-modality outputs.

        The second value holds ``tokens_{m}`` (B, N, d) (without positions: the
        MIL-NCE inputs), for the aerial image ``indices_{m}`` / ``sizes_{m}`` (index
        bypass), for series ``attention_{m}`` (B, T), ``dates_{m}`` and
        ``date_mask_{m}``, ``input_{m}`` the checked input (image: its (B, N, C, p, p)
        patches; series: (B, T, C, h, w) with the channels the projector uses), and
        ``grid`` (gh, gw).
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
                x = xs[m]
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
