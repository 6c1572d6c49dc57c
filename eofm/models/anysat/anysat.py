"""AnySat (Astruc et al., CVPR 2025): one encoder for any resolution, scale, modality.

The encoder of the paper (supplementary Sec. C, "Network Architecture"), after the
public reference ``gastruc/AnySat`` (``AnyModule.forward_release`` of
``src/models/networks/encoder/Any_multi.py`` and its building blocks, MIT), with
the state-dict layout of the released ``AnySat.pth`` for ``AnySat('base')``:

1. per modality ``m``, the projector ``phi^proj_m`` (:mod:`.projectors`) turns every
   sub-patch of every ``P``-metre patch into a token;
2. the shared spatial transformer ``phi^trans`` (:mod:`.spatial_transformer`) turns
   the sub-patches of one patch into one token per patch and modality;
3. the modality combiner ``phi^comb``: the patch tokens of all modalities plus the
   scale-adaptive sin-cos encoding of their patch (supplementary Sec. C, "Position
   Encodings", Eq. A; the reference multiplies the grid coordinates by ``P / 10``,
   which eofm follows, where the text writes ``g / G`` with ``G`` = 1 m), a cls
   token, ``depth`` plain pre-norm blocks, then a cross block
   (:class:`eofm.CrossRPEBlock`) whose learned query plus the same encoding
   attends over all tokens with iRPE on keys and no residual: one cls token and
   one token per patch. A tile-level modality (MODIS, one 250 m pixel
   for the whole tile) gives one extra token without position after the cls token;
   it has a query of its own in the cross block whose output is dropped.

State-dict layout (418 keys for ``'base'`` with the 11 modalities of the release):
``cls_token``; ``projector_{m}.*``; ``spatial_encoder.{cls_token, predictor_blocks.*,
predictor_norm.*}``; ``blocks.{0..depth-1}.{norm1, attn.qkv, attn.proj, norm2,
mlp.fc1, mlp.fc2}``; ``blocks.{depth}.{norm1, attn.wk, attn.wv, attn.q_learned,
attn.rpe_k.lookup_table_weight, attn.proj, norm2, mlp.fc1, mlp.fc2}``.

Where eofm deliberately differs from the reference:

* Landsat 7 / ALOS (30 m) and MODIS pixels per patch come from the ground sampling
  distance and the patch size (the reference divides the scale by a hard-coded
  ``reduce_scale``, which gives wrong grids when ``P`` is not a multiple of 30 m;
  eofm raises instead);
* the tile-level MODIS token works with any number of other modalities (the
  reference's release path counts MODIS as a patch modality in the cross block);
* non-square tiles are supported (the reference infers ``int(sqrt(N))``);
* plain softmax attention (the reference's flash-attention path transposes heads
  and tokens);
* ``rpe_query_heads='own'`` is available: the reference's iRPE (the code the
  release was trained with) adds the *first* head's relative-position term to every
  head, in the spatial transformer and in the cross block; eofm reproduces that by
  default (``rpe_query_heads='first'``), so that ``AnySat.pth`` gives the features it
  was trained for, and ``'own'`` is the per-head form of the iRPE paper (for models
  trained from scratch). See :mod:`eofm.models.common.irpe`.
* ``'patch'`` is returned as a (B, gh, gw, D) grid and ``'dense'`` as a map with
  every sub-patch at its place (the reference returns (B, N, D) and (B, N, L, 2D)
  in token order).
"""
import copy
import re
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmengine.runner.checkpoint import CheckpointLoader

from eofm.registry import MODELS
from eofm.structures.batch_schema import (DATE_MASK, DOY, LONLAT, PRESENT, date_mask_key,
                                          dates_key, doy_key, mask_key, split_key)
from ..common.rpe_blocks import CrossRPEBlock, RPEBlock
from ..common.irpe import check_query_heads
from ..common.patchify import gather_patches, pixels_per_patch
from ..common.pos_embed import get_2d_sincos_pos_embed_with_scale
from ..common.pretrained import (chain_converts, load_pretrained, modality_band_converts,
                                 pretrained_init_cfg, unwrap_state_dict)
from .projectors import (ImagePatchProjector, TimeSeriesProjector,
                         subpatch_raster_index)
from .spatial_transformer import AnySatSpatialTransformer

__all__ = ['AnySat', 'ANYSAT_MODALITIES']

# The 11 modalities of the release (the reference's
# ``configs/model/network/encoder/Any_Base_multi.yaml``): bands, ground sampling
# distance (m / pixel) and, for images, the sub-patch side in pixels; for time series
# the date-encoding period, L-TAE dropout and input GroupNorm. ``bands``: the band
# order of the benchmark files each modality of the release was trained on, as
# eofm's loaders read them (assumed from the datasets, the release does not name
# them): TreeSatAI's aerial tiles (NIR, G, B, R), FLAIR's aerial patches with the
# elevation, PASTIS-HD's SPOT 6 RGB, the ten 10 / 20 m Sentinel-2 bands of
# TreeSatAI-TS and PASTIS, PASTIS-R's Sentinel-1 (VV, VH, VV / VH).
ANYSAT_MODALITIES = {
    'aerial':
    dict(kind='image', in_channels=4, gsd=0.2, patch_px=10,
         bands=('NIR', 'G', 'B', 'R')),
    'aerial-flair':
    dict(kind='image', in_channels=5, gsd=0.2, patch_px=10,
         bands=('R', 'G', 'B', 'NIR', 'DEM')),
    'spot':
    dict(kind='image', in_channels=3, gsd=1.0, patch_px=10, bands=('R', 'G', 'B')),
    'naip':
    dict(kind='image', in_channels=4, gsd=1.25, patch_px=8),
    's2':
    dict(kind='series', in_channels=10, gsd=10, T=367, dropout=0.0, in_norm=True,
         bands=('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')),
    's1-asc':
    dict(kind='series', in_channels=2, gsd=10, T=367, dropout=0.2, bands=('VV', 'VH')),
    's1':
    dict(kind='series', in_channels=3, gsd=10, T=367, dropout=0.2,
         bands=('VV', 'VH', 'VV/VH')),
    'alos':
    dict(kind='series', in_channels=3, gsd=30, T=367, dropout=0.2),
    'l7':
    dict(kind='series', in_channels=6, gsd=30, T=367, dropout=0.2),
    'l8':
    dict(kind='series', in_channels=11, gsd=10, T=366, dropout=0.0),
    'modis':
    dict(kind='series', in_channels=7, gsd=250, T=367, dropout=0.2, tile_level=True),
}

OUTPUTS = ('tile', 'patch', 'all', 'dense')
_TOL = 1e-6


def _exact_int(value):
    n = round(value)
    return n if n >= 1 and abs(value - n) <= _TOL * max(1.0, abs(value)) else None


@MODELS.register_module()
class AnySat(BaseModule):
    """AnySat encoder (after ``gastruc/AnySat``'s ``AnyModule``, MIT).

    Args:
        arch (str | dict): ``'base'`` (the release: D = 768, 6 + 6 blocks, 12 heads,
            125,905,447 parameters with all modalities) or ``'tiny'`` (D = 64, 2 + 2
            blocks, 4 heads; for tests on CPU), or a dict with ``embed_dim``,
            ``depth``, ``num_heads``, ``spatial_depth``, ``spatial_heads``,
            ``mlp_ratio``.
        modalities (Sequence[str] | dict, optional): Modalities to build; None: the
            11 of the release. A dict maps names to overrides of
            :data:`ANYSAT_MODALITIES` (or full specs of new modalities).
        patch_size (float, optional): Default patch size in metres (a multiple of
            10) when ``forward`` gets none.
        output (str): Default output mode when ``forward`` gets none (host models
            such as mmpretrain's ``ImageClassifier`` call the backbone with the
            inputs only): 'patch' (default), 'tile', 'all' or 'dense'.
        dense_modality (str, optional): Default modality of the ``'dense'``
            output when ``forward`` gets none (host models such as mmseg's
            ``EncoderDecoder`` call the backbone with the inputs only): one of the
            built patch-level modalities (not MODIS). None (default): the first
            patch-level modality of the inputs.
        subpatch_order (str): ``'reference'`` (default; the order the release was
            trained with, see :mod:`.projectors`) or ``'raster'``.
        rpe_query_heads (str): ``'first'`` (default; the reference's iRPE, which
            gives every head the first head's relative-position term: what the
            released weights were trained with) or ``'own'`` (each head its own
            query, the iRPE paper's form). Applies to the spatial transformer and
            the cross block.
        drop_rate, attn_drop_rate, drop_path_rate (float): Regularisation of the
            combiner; ``spatial_drop_path_rate`` that of the spatial transformer.
        bands (dict, optional): Modality -> the data's band names (the band contract,
            :mod:`eofm.structures.bands`): the projector is built for them and, when
            weights are loaded, its input kernels are taken from the trained bands
            by name (reordered; a missing band is an error unless ``band_policy``
            says ``missing='mean' | 'zero' | 'drop-and-adapt'``; bands the weights
            never saw need ``extra='new' | 'copy:<band>'``).
        trained_bands (dict, optional): Modality -> the weights' band names, where
            the checkpoint's data contract does not record them; defaults: the
            ``bands`` of the modality specs (:data:`ANYSAT_MODALITIES`).
        band_policy (dict, optional): ``dict(missing=..., extra=...)`` for every
            modality, or modality -> such a dict.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...,
            prefix=None)`` loads a file in the release layout (``AnySat.pth``) or
            an eofm checkpoint (``prefix='backbone'``); projectors of modalities not
            built are skipped, projectors of built modalities the file lacks (a new
            sensor) keep their initialisation, any other mismatch is an error.

    ``forward(inputs, patch_size=None, output=None, dense_modality=None)``:
    ``inputs`` maps a modality to (B, C, H, W) (images) or (B, T, C, H, W) (time
    series), ``{m}_dates`` to (B, T) day of year (required for time series) and
    optionally ``{m}_mask`` (broadcastable to the series, True where observed). All
    modalities cover the same tile. The batch of eofm's data layer
    (:class:`eofm.MultiModalDataPreprocessor`: ``s1_asc``, ``{m}_doy``,
    ``{m}_date_mask``...) is accepted as well. Outputs (channel-last, as the release):

    * ``'tile'``: (B, D) the cls token;
    * ``'patch'``: (B, gh, gw, D) one token per patch;
    * ``'all'``: (B, 1 + gh * gw, D) cls then patches (row-major);
    * ``'dense'``: (B, gh * s, gw * s, 2 D), per sub-patch of ``dense_modality``
      (default: the constructor's ``dense_modality``, else the first non-tile-level
      modality of ``inputs``) the patch token concatenated with the sub-patch
      token of the spatial transformer, ``s`` sub-patches per patch side.

    Pretraining options of the paper (modality dropout, date dropout, JEPA masks)
    are not part of this encoder.
    """

    arch_zoo = {
        'base':
        dict(
            embed_dim=768,
            depth=6,
            num_heads=12,
            spatial_depth=6,
            spatial_heads=12,
            mlp_ratio=4.0),
        'tiny':
        dict(
            embed_dim=64,
            depth=2,
            num_heads=4,
            spatial_depth=2,
            spatial_heads=4,
            mlp_ratio=4.0),
    }

    def __init__(self,
                 arch='base',
                 modalities=None,
                 patch_size: Optional[float] = None,
                 output: str = 'patch',
                 dense_modality: Optional[str] = None,
                 subpatch_order: str = 'reference',
                 rpe_query_heads: str = 'first',
                 drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0,
                 spatial_drop_path_rate: float = 0.0,
                 bands: Optional[dict] = None,
                 trained_bands: Optional[dict] = None,
                 band_policy: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        cfg = self._arch(arch)
        if output not in OUTPUTS:
            raise ValueError(f'AnySat: output must be one of {OUTPUTS}, got {output!r}')
        self.output = output
        if subpatch_order not in ('reference', 'raster'):
            raise ValueError("AnySat: subpatch_order must be 'reference' or 'raster', "
                             f'got {subpatch_order!r}')
        d = self.embed_dim = cfg['embed_dim']
        if d % 32:
            raise ValueError('AnySat: embed_dim must be a multiple of 32 (16 L-TAE '
                             f'heads, GroupNorm(4) of width D/8), got {d}')
        self.specs = self._modality_specs(modalities)
        self.bands = {m: tuple(b) for m, b in (bands or {}).items()}
        unknown = sorted(set(self.bands) - set(self.specs))
        if unknown:
            raise ValueError(f'AnySat: bands given for {unknown}, which are not built '
                             f'modalities ({sorted(self.specs)})')
        self.trained_bands = {
            m: tuple(b) for m, b in dict(
                {m: s['bands'] for m, s in self.specs.items() if 'bands' in s},
                **(trained_bands or {})).items()
        }
        for m, b in self.bands.items():  # the projector takes the data's bands
            self.specs[m]['in_channels'] = len(b)
        self.band_policy = dict(band_policy or {})
        if dense_modality is not None:
            patch_level = sorted(m for m, spec in self.specs.items()
                                 if not spec.get('tile_level'))
            if dense_modality not in patch_level:
                raise ValueError(
                    f'AnySat: dense_modality {dense_modality!r} is not a built '
                    f'patch-level modality; choose one of {patch_level}')
        self.dense_modality = dense_modality
        check_query_heads(rpe_query_heads, 'AnySat')
        self.patch_size, self.subpatch_order = patch_size, subpatch_order
        self.rpe_query_heads = rpe_query_heads
        self.depth = cfg['depth']

        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        for name in sorted(self.specs):
            spec = self.specs[name]
            if spec['kind'] == 'image':
                proj = ImagePatchProjector(spec['in_channels'], d, spec['patch_px'])
            else:
                proj = TimeSeriesProjector(
                    spec['in_channels'],
                    d,
                    T=spec.get('T', 367),
                    dropout=spec.get('dropout', 0.2),
                    in_norm=spec.get('in_norm', False))
            self.add_module(f'projector_{name}', proj)
        self.spatial_encoder = AnySatSpatialTransformer(
            d,
            cfg['spatial_depth'],
            cfg['spatial_heads'],
            cfg['mlp_ratio'],
            drop_path_rate=spatial_drop_path_rate,
            rpe_query_heads=rpe_query_heads)
        dpr = torch.linspace(0, drop_path_rate, self.depth + 1).tolist()
        blocks = [
            RPEBlock(
                d,
                cfg['num_heads'],
                cfg['mlp_ratio'],
                qkv_bias=True,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                rpe=False,
                norm_eps=1e-6) for i in range(self.depth)
        ]
        blocks.append(
            CrossRPEBlock(
                d,
                cfg['num_heads'],
                cfg['mlp_ratio'],
                qkv_bias=True,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=dpr[-1],
                norm_eps=1e-6,
                rpe_query_heads=rpe_query_heads))
        self.blocks = nn.ModuleList(blocks)
        trunc_normal_(self.cls_token, std=0.02)
        for blk in self.blocks:
            for m in blk.modules():
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    # ------------------------------------------------------------------ config
    @classmethod
    def _arch(cls, arch):
        keys = {
            'embed_dim', 'depth', 'num_heads', 'spatial_depth', 'spatial_heads',
            'mlp_ratio'
        }
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise KeyError(f'AnySat: unknown arch {arch!r}; choose one of '
                               f'{sorted(cls.arch_zoo)} or give a dict')
            return dict(cls.arch_zoo[arch])
        if isinstance(arch, dict):
            missing = keys - set(arch)
            if missing:
                raise ValueError(f'AnySat: arch dict misses {sorted(missing)}')
            return dict(arch)
        raise TypeError(f'AnySat: arch must be a str or dict, got {type(arch)}')

    @staticmethod
    def _modality_specs(modalities):
        if modalities is None:
            return copy.deepcopy(ANYSAT_MODALITIES)
        if isinstance(modalities, str):
            modalities = [modalities]
        if not isinstance(modalities, dict):
            modalities = {m: {} for m in modalities}
        if not modalities:
            raise ValueError('AnySat: no modality')
        specs = {}
        for name, override in modalities.items():
            if '.' in name or name.endswith(('_dates', '_mask')):
                raise ValueError(f'AnySat: invalid modality name {name!r}')
            spec = copy.deepcopy(ANYSAT_MODALITIES.get(name, {}))
            spec.update(override or {})
            need = {'kind', 'in_channels', 'gsd'
                    } | ({'patch_px'} if spec.get('kind') == 'image' else set())
            if not need <= set(spec):
                raise ValueError(
                    f'AnySat: modality {name!r} is not one of the release '
                    f'({sorted(ANYSAT_MODALITIES)}); a new one needs {sorted(need)}')
            if spec['kind'] not in ('image', 'series'):
                raise ValueError(f"AnySat: {name}: kind must be 'image' or 'series'")
            specs[name] = spec
        return specs

    def subpatch_resolution(self, name):
        """Sub-patch side in metres (the spatial transformer's position step)."""
        spec = self.specs[name]
        if spec['kind'] == 'image':
            return spec['patch_px'] * spec['gsd']
        return spec['gsd']

    # ------------------------------------------------------------------ weights
    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        if pretrained is None:
            super().init_weights()
            return
        ckpt, prefix = pretrained
        if isinstance(ckpt, str):
            ckpt = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
        state = unwrap_state_dict(ckpt)
        p = prefix.rstrip('.') + '.' if prefix else None
        if p and any(k.startswith(p) for k in state):
            names = [k[len(p):] for k in state if k.startswith(p)]
        else:
            names = list(state)
        # projectors of modalities this model does not build are skipped
        built = {f'projector_{m}' for m in self.specs}
        skipped = [
            k for k in names
            if k.startswith('projector_') and k.split('.', 1)[0] not in built
        ]
        # projectors of new modalities (not in the file) are trained from scratch
        new = sorted(
            m for m in self.specs
            if not any(k.startswith(f'projector_{m}.') for k in names))
        if new:
            print_log(
                f'AnySat: no projector for {new} in the checkpoint; they keep their '
                'initialisation (trained from scratch)',
                logger='current')
        layers = {
            m: (f'projector_{m}.patch_embed.weight' if s['kind'] == 'image' else
                f'projector_{m}.patch_embed.inconv.0.weight', 1)
            for m, s in self.specs.items()
        }
        converts = modality_band_converts(
            'AnySat', layers, {m: b for m, b in self.bands.items() if m not in new},
            self.trained_bands, self.band_policy, ckpt, str(pretrained[0]))
        load_pretrained(
            self,
            ckpt,
            prefix,
            ignore_keys=skipped,
            allow_missing=[rf'projector_{re.escape(m)}\.' for m in new],
            convert=chain_converts(*converts),
            source=str(pretrained[0]))

    # ------------------------------------------------------------------ forward
    def adapt_batch(self, batch):
        """Accept the batch of :class:`eofm.MultiModalDataPreprocessor` as well.

        eofm's data layer names modalities with identifiers (``s1_asc`` for the
        release's ``s1-asc``), gives days of year as ``{m}_doy``, pixel validity as
        ``{m}_mask`` (B, T, H, W), padded dates as ``{m}_date_mask`` (B, T), and adds
        ``{m}_present`` and ``lonlat``. They become AnySat's inputs: ``{m}_dates``
        and one ``{m}_mask`` broadcastable to (B, T, C, H, W); the rest is dropped.
        Keys that are already AnySat's pass through unchanged. This is the one
        place where eofm's batch naming becomes AnySat's.
        """
        eofm_keys = [
            k for k in batch if split_key(k)[1] in (LONLAT, DOY, DATE_MASK, PRESENT)
        ]
        renamed = [
            k for k in batch
            if k not in self.specs and k.replace('_', '-') in self.specs
        ]
        if not eofm_keys and not renamed:
            return batch
        out = {}
        for key, value in batch.items():
            name = key if key in self.specs else key.replace('_', '-')
            if name not in self.specs:
                continue
            out[name] = value
            dates = batch.get(dates_key(key), batch.get(doy_key(key)))
            if dates is not None:
                out[dates_key(name)] = dates
            mask = batch.get(mask_key(key))
            if mask is not None and mask.dim() == value.dim() - 1:
                mask = mask.unsqueeze(-3)  # (B, [T,] H, W) -> channel axis
            date_mask = batch.get(date_mask_key(key))
            if date_mask is not None and value.dim() == 5:
                date_mask = date_mask.bool()[:, :, None, None, None]
                mask = date_mask if mask is None else mask.bool() & date_mask
            if mask is not None:
                out[mask_key(name)] = mask
        return out

    def _check_inputs(self, inputs, patch_size):
        if not isinstance(inputs, dict) or not inputs:
            raise TypeError('AnySat: inputs must be a non-empty dict of modalities')
        names = []
        for key in inputs:
            if key.endswith('_dates') or key.endswith('_mask'):
                base = key.rsplit('_', 1)[0]
                if base not in inputs:
                    raise KeyError(f'AnySat: {key!r} given without {base!r}')
                continue
            if key not in self.specs:
                raise KeyError(f'AnySat: unknown modality {key!r}; this model has '
                               f'{sorted(self.specs)}')
            names.append(key)
        if not names:
            raise ValueError('AnySat: inputs hold no modality')
        if patch_size is None:
            raise ValueError('AnySat: give patch_size (metres) to forward or __init__')
        scale = _exact_int(patch_size / 10)
        if scale is None:
            raise ValueError(
                f'AnySat: patch_size must be a positive multiple of 10 m, got '
                f'{patch_size}')
        plans, grid, extent = {}, None, None
        for name in names:
            spec, x = self.specs[name], inputs[name]
            want = 4 if spec['kind'] == 'image' else 5
            layout = '(B, C, H, W)' if want == 4 else '(B, T, C, H, W)'
            if x.dim() != want:
                raise ValueError(f'AnySat: {name} must be {layout}, got '
                                 f'{tuple(x.shape)}')
            c = x.shape[-3]
            if c != spec['in_channels']:
                raise ValueError(f'AnySat: {name} has {c} channels, its projector '
                                 f'expects {spec["in_channels"]}')
            h, w = x.shape[-2:]
            if spec['kind'] == 'series':
                dates = inputs.get(dates_key(name))
                if dates is None:
                    raise KeyError(f'AnySat: time series {name!r} needs '
                                   f"'{name}_dates' (B, T) day of year")
                if tuple(dates.shape) != tuple(x.shape[:2]):
                    raise ValueError(
                        f'AnySat: {name}_dates has shape {tuple(dates.shape)}, '
                        f'expected {tuple(x.shape[:2])}')
            if spec.get('tile_level'):
                plans[name] = dict(tile_level=True, grid=(h, w))
                continue
            px = pixels_per_patch(spec['gsd'], patch_size, name)
            if h % px or w % px:
                raise ValueError(
                    f'AnySat: {name}: the patch size {patch_size} m does not divide '
                    f'the tile of {h * spec["gsd"]:g} m x {w * spec["gsd"]:g} m '
                    f'({h} x {w} px at {spec["gsd"]} m)')
            tile = (h * spec['gsd'], w * spec['gsd'])
            if extent is not None and any(
                    abs(a - b) > _TOL * max(1.0, a) for a, b in zip(tile, extent)):
                raise ValueError(
                    f'AnySat: {name}: tile of {tile[0]:g} m x {tile[1]:g} m differs '
                    f"from the other modalities' {extent[0]:g} m x {extent[1]:g} m")
            extent, grid = tile, (h // px, w // px)
            if spec['kind'] == 'image':
                if px % spec['patch_px']:
                    raise ValueError(
                        f'AnySat: {name}: {px} px per {patch_size} m patch is not a '
                        f'multiple of its sub-patch of {spec["patch_px"]} px')
                side = px // spec['patch_px']
                if side % scale:
                    raise ValueError(
                        f'AnySat: {name}: {side} sub-patches per patch side are not '
                        f'a multiple of the {scale} 10-m cells')
                plans[name] = dict(side=side, cells=scale, pixels=px)
            else:
                plans[name] = dict(side=px, pixels=px)
        if grid is None:
            raise ValueError('AnySat: a tile-level modality (MODIS) needs at least one '
                             'patch-level modality')
        return names, plans, grid, scale

    def tokenize(self,
                 inputs: Dict[str, torch.Tensor],
                 patch_size: Optional[float] = None,
                 keep_subpatches: bool = False,
                 dense_modality: Optional[str] = None):
        """Steps 1-2: projectors and the spatial transformer of every modality.

        ``inputs`` as :meth:`forward` takes them (either naming). Returns a dict:
        ``names`` (patch-level modalities, input order), ``tokens`` [(B, N, D)] one
        token per row-major patch and modality, without position (the reference's
        ``tokens_{m}``, the inputs of the JEPA's MIL-NCE), ``tile_tokens``
        [(B, 1, D)] of tile-level modalities (MODIS), ``grid`` (gh, gw), ``scale``
        (patch size / 10 m), ``patch_size`` and, with ``keep_subpatches``,
        ``subpatches`` (B, gh * s, gw * s, D): the sub-patch tokens of
        ``dense_modality`` (default: the constructor's, else the first patch-level
        modality) at their places, else None.
        """
        inputs = self.adapt_batch(inputs) if isinstance(inputs, dict) else inputs
        patch_size = self.patch_size if patch_size is None else patch_size
        names, plans, (gh, gw), scale = self._check_inputs(inputs, patch_size)
        patch_level = [m for m in names if not plans[m].get('tile_level')]
        if keep_subpatches:
            dense_modality = dense_modality or self.dense_modality or patch_level[0]
            if dense_modality not in patch_level:
                raise ValueError(f'AnySat: dense_modality {dense_modality!r} is not a '
                                 f'patch-level modality of the inputs {patch_level}')
        b, d = inputs[names[0]].shape[0], self.embed_dim
        tokens, tile_tokens, subpatches = [], [], None
        for name in names:
            spec, plan, x = self.specs[name], plans[name], inputs[name]
            proj = getattr(self, f'projector_{name}')
            if spec['kind'] == 'image':
                tok = proj(x, plan['side'], plan['cells'], self.subpatch_order)
            else:
                tok = proj(x, inputs[dates_key(name)],
                           None if plan.get('tile_level') else plan['pixels'],
                           inputs.get(mask_key(name)))
            sub_grid = plan['grid'] if plan.get('tile_level') else (plan['side'], ) * 2
            keep = keep_subpatches and name == dense_modality
            out = self.spatial_encoder(tok, sub_grid, self.subpatch_resolution(name),
                                       keep)
            if keep:
                out, subpatches = out
                subpatches = self._dense_grid(subpatches, name, plan, b, gh, gw)
            if plan.get('tile_level'):
                tile_tokens.append(out.view(b, 1, d))
            else:
                tokens.append(out.view(b, gh * gw, d))
        return dict(
            names=patch_level,
            tokens=tokens,
            tile_tokens=tile_tokens,
            grid=(gh, gw),
            scale=scale,
            patch_size=patch_size,
            subpatches=subpatches)

    def combine(self,
                parts: dict,
                keep: Optional[torch.Tensor] = None,
                token_keep: Optional[torch.Tensor] = None,
                mask_token: Optional[torch.Tensor] = None):
        """Step 3, the modality combiner, on the tokens of :meth:`tokenize`.

        ``keep`` (B, K) row-major patch indices: combine only those patches of each
        sample (AnySat's JEPA context; None: every patch). ``token_keep`` (B, M, K)
        bool: the tokens of the M modalities not kept are replaced by ``mask_token``
        (modality dropout). Returns (B, 1 + K, D): the cls token, then one token per
        (kept) patch; the queries of tile-level tokens are dropped.
        """
        (gh, gw), scale = parts['grid'], parts['scale']
        toks, tile = parts['tokens'], parts['tile_tokens']
        b, d = toks[0].shape[0], self.embed_dim
        pos = get_2d_sincos_pos_embed_with_scale(
            d, (gh, gw), scale, cls_token=True).to(self.cls_token)
        ppos = pos[:, 1:].expand(b, -1, -1)
        toks = [t + ppos for t in toks]
        if keep is not None:
            toks = [gather_patches(t, keep) for t in toks]
            ppos = gather_patches(ppos, keep)
        if token_keep is not None:
            toks = [
                torch.where(token_keep[:, i, :, None], t, mask_token.to(t))
                for i, t in enumerate(toks)
            ]
        skip = 1 + len(tile)
        cls = (self.cls_token + pos[:, :1]).expand(b, -1, -1)
        x = torch.cat([cls] + list(tile) + toks, dim=1)
        for blk in self.blocks[:-1]:
            x = blk(x)
        query_pos = torch.cat([pos[:, :1].expand(b, skip, -1), ppos], dim=1)
        x = self.blocks[-1](x, query_pos, (gh, gw), len(toks), skip, keep)
        return torch.cat([x[:, :1], x[:, skip:]], dim=1)  # drop tile-level queries

    def forward(self,
                inputs: Dict[str, torch.Tensor],
                patch_size: Optional[float] = None,
                output: Optional[str] = None,
                dense_modality: Optional[str] = None):
        output = self.output if output is None else output
        if output not in OUTPUTS:
            raise ValueError(f'AnySat: output must be one of {OUTPUTS}, got {output!r}')
        parts = self.tokenize(inputs, patch_size, output == 'dense', dense_modality)
        x = self.combine(parts)
        if output == 'tile':
            return x[:, 0]
        if output == 'all':
            return x
        (gh, gw), b = parts['grid'], x.shape[0]
        patches = x[:, 1:].reshape(b, gh, gw, self.embed_dim)
        if output == 'patch':
            return patches
        subpatches = parts['subpatches']
        s = subpatches.shape[1] // gh
        up = patches.repeat_interleave(s, dim=1).repeat_interleave(s, dim=2)
        return torch.cat([up, subpatches], dim=-1)

    def _dense_grid(self, subpatches, name, plan, b, gh, gw):
        """(B * N, L, D) sub-patch tokens -> (B, gh * s, gw * s, D) map."""
        s, d = plan['side'], subpatches.shape[-1]
        if self.specs[name]['kind'] == 'image':
            order = subpatch_raster_index(plan['cells'], s // plan['cells'],
                                          self.subpatch_order).to(subpatches.device)
            raster = torch.empty_like(subpatches)
            raster[:, order] = subpatches
            subpatches = raster
        y = subpatches.reshape(b, gh, gw, s, s, d).permute(0, 1, 3, 2, 4, 5)
        return y.reshape(b, gh * s, gw * s, d)
