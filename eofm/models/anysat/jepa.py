"""AnySat's JEPA pretraining (Astruc et al., CVPR 2025, Sec. 3.3 and supplementary).

After the public reference ``gastruc/AnySat`` (``JEPAAnyMulti`` of
``src/models/networks/JEPAAny.py``, ``VisionTransformerPredictorMulti`` of
``src/models/networks/encoder/Transformer.py``, the ``MILNCE`` and smooth-L1 losses of
``src/models/losses.py``, MIT) and the I-JEPA multi-block mask collator it uses
(``facebookresearch/ijepa``, ``src/masks/multiblock.py``).

One training step on a batch of co-registered modalities:

1. half of the dates of every time series are dropped (``date_drop_ratio`` 0.5; the
   student sees the shortened series, the target encoder the full ones);
2. :class:`MultiBlockMaskCollator` draws, per tile, one context block (scale
   0.85-1.0, square) and 4 target blocks (scale 0.2-0.8, aspect 0.75-1.5) on the
   patch grid; the context excludes the target blocks (relaxed as in I-JEPA when
   no valid block exists);
3. the student (context encoder, an :class:`eofm.AnySat`) turns every modality into
   one token per patch (projector + spatial transformer); the combiner sees only the
   context patches of every modality, of which ``modality_drop_ratio`` (0.5) of the
   tokens beyond one kept modality per patch are replaced by a learned mask token
   (:func:`modality_keep_mask`); the cross block answers one query per context patch;
4. :class:`AnySatPredictor` predicts the target blocks from the context tokens plus
   mask tokens at the targets' positions;
5. the EMA target encoder (no gradients; momentum 0.996 -> 1.0 linearly over the run,
   :class:`LinearMomentumEMA`, updated after each iteration by
   :class:`eofm.TeacherEMAHook`) encodes the whole tile; its patch tokens are
   layer-normed and the targets' are compared with the predictions by smooth-L1;
6. MIL-NCE (tau 0.1, the tile's own modality block excluded from the negatives,
   :class:`eofm.MILNCELoss`) on the student's per-modality spatial-transformer tokens
   of all patches; the two losses are summed 1:1.

Where eofm differs from the reference: the predictor adds the positions of the
patches (rows ``1:`` of the sin-cos table; the reference indexes the table with the
cls row first, shifting every position by one); the mask token of modality dropout
replaces the token with its position (as the reference) and the combiner's cross
block uses the iRPE buckets of the context patches' true grid positions; masks are
drawn inside the model (the grid depends on the patch size), deterministically from a
``torch.Generator`` when one is given.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, ExponentialMovingAverage
from mmengine.model.weight_init import trunc_normal_

from eofm.registry import MODELS
from eofm.structures.batch_schema import dates_key, mask_key
from ..common.modes import ModeForwardMixin
from ..common.teacher import EMATeacherMixin
from ..common.source_blocks import add_source_logs, split_source_blocks
from ..common.rpe_blocks import RPEBlock
from ..common.patchify import gather_patches
from ..common.pos_embed import get_2d_sincos_pos_embed_with_scale

__all__ = [
    'AnySatJEPA', 'AnySatPredictor', 'MultiBlockMaskCollator', 'LinearMomentumEMA',
    'modality_keep_mask', 'drop_dates'
]


# ---------------------------------------------------------------------- masks
class MultiBlockMaskCollator:
    """I-JEPA multi-block masks on a patch grid (after ``ijepa``'s ``MaskCollator``).

    Block sizes are drawn once per batch (one draw of ``u ~ U(0, 1)`` sets both the
    scale and the aspect ratio, as I-JEPA), positions per tile. Masks are lists of
    (B, K) index tensors into the row-major grid, truncated to the shortest mask of
    the batch so that they stack.

    Args:
        enc_mask_scale (tuple): Context block scale range. Default (0.85, 1.0).
        pred_mask_scale (tuple): Target block scale range. Default (0.2, 0.8).
        aspect_ratio (tuple): Target block height / width range. Default
            (0.75, 1.5). Context blocks are square (I-JEPA).
        nenc (int): Context blocks per tile. Default 1.
        npred (int): Target blocks per tile. Default 4.
        min_keep (int): A block must keep more than this many patches (fewer when
            the block itself is smaller). Default 1.
        allow_overlap (bool): Let the context overlap the targets. Default False.

    ``__call__(batch_size, grid, generator=None)`` returns ``(masks_enc,
    masks_pred)``. After a call, ``last_sizes`` holds the (h, w) of the context and
    target blocks and ``last_relaxed`` the largest number of target constraints that
    had to be dropped for a context block (0: the context excludes every target).
    """

    def __init__(self,
                 enc_mask_scale: Tuple[float, float] = (0.85, 1.0),
                 pred_mask_scale: Tuple[float, float] = (0.2, 0.8),
                 aspect_ratio: Tuple[float, float] = (0.75, 1.5),
                 nenc: int = 1,
                 npred: int = 4,
                 min_keep: int = 1,
                 allow_overlap: bool = False):
        self.enc_mask_scale = tuple(enc_mask_scale)
        self.pred_mask_scale = tuple(pred_mask_scale)
        self.aspect_ratio = tuple(aspect_ratio)
        self.nenc, self.npred = nenc, npred
        self.min_keep, self.allow_overlap = min_keep, allow_overlap
        self.last_sizes, self.last_relaxed = None, 0

    @staticmethod
    def sample_block_size(generator, height, width, scale, aspect_ratio):
        """(h, w) of a block: ``h * w ~ scale * H * W``, ``h / w ~ aspect``; strictly
        smaller than the grid (I-JEPA's rule), at least 1."""
        u = torch.rand(1, generator=generator).item()
        mask_scale = scale[0] + u * (scale[1] - scale[0])
        max_keep = int(height * width * mask_scale)
        ar = aspect_ratio[0] + u * (aspect_ratio[1] - aspect_ratio[0])
        h = int(round(math.sqrt(max_keep * ar)))
        w = int(round(math.sqrt(max_keep / ar)))
        h = max(1, min(h, height - 1)) if height > 1 else 1
        w = max(1, min(w, width - 1)) if width > 1 else 1
        return h, w

    def _sample_block_mask(self, size, height, width, generator, acceptable=None):
        h, w = size
        # Blocks are strictly smaller than the grid: on grids of 2 or 3 patches a
        # side (GeoPlex's largest patch sizes: FLAIR / PLANTED / TreeSatAI-TS tiles
        # of 2 x 2 patches) a block may have a single patch, which I-JEPA's rule
        # (more than min_keep patches) would never accept; such blocks are kept.
        min_keep = min(self.min_keep, h * w - 1)
        tries, timeout, og_timeout = 0, 20, 20
        while True:
            top = int(torch.randint(0, height - h + 1, (1, ), generator=generator))
            left = int(torch.randint(0, width - w + 1, (1, ), generator=generator))
            mask = torch.zeros((height, width), dtype=torch.int32)
            mask[top:top + h, left:left + w] = 1
            if acceptable is not None:
                for region in acceptable[:max(len(acceptable) - tries, 0)]:
                    mask *= region
            idx = torch.nonzero(mask.flatten()).flatten()
            if len(idx) > min_keep:
                break
            timeout -= 1
            if timeout == 0:
                tries += 1
                timeout = og_timeout
        complement = torch.ones((height, width), dtype=torch.int32)
        complement[top:top + h, left:left + w] = 0
        return idx, complement, tries

    def __call__(self, batch_size: int, grid, generator=None):
        height, width = (grid, grid) if isinstance(grid, int) else tuple(grid)
        if height * width < 2:
            raise ValueError(f'MultiBlockMaskCollator: a {height}x{width} patch grid '
                             'has no context / target split; use a smaller patch '
                             'size (at least 2 patches per tile)')
        p_size = self.sample_block_size(generator, height, width, self.pred_mask_scale,
                                        self.aspect_ratio)
        e_size = self.sample_block_size(generator, height, width, self.enc_mask_scale,
                                        (1.0, 1.0))
        self.last_sizes = dict(enc=e_size, pred=p_size)
        self.last_relaxed = 0
        all_enc, all_pred = [], []
        min_enc = min_pred = height * width
        for _ in range(batch_size):
            preds, complements = [], []
            for _ in range(self.npred):
                idx, comp, _ = self._sample_block_mask(p_size, height, width, generator)
                preds.append(idx)
                complements.append(comp)
                min_pred = min(min_pred, len(idx))
            acceptable = None if self.allow_overlap else complements
            encs = []
            for _ in range(self.nenc):
                idx, _, tries = self._sample_block_mask(e_size, height, width,
                                                        generator, acceptable)
                self.last_relaxed = max(self.last_relaxed, tries)
                encs.append(idx)
                min_enc = min(min_enc, len(idx))
            all_pred.append(preds)
            all_enc.append(encs)
        masks_pred = [
            torch.stack([s[i][:min_pred] for s in all_pred]) for i in range(self.npred)
        ]
        masks_enc = [
            torch.stack([s[i][:min_enc] for s in all_enc]) for i in range(self.nenc)
        ]
        return masks_enc, masks_pred


def modality_keep_mask(batch_size: int,
                       num_modalities: int,
                       num_patches: int,
                       ratio: float = 0.5,
                       generator: Optional[torch.Generator] = None,
                       device=None) -> torch.Tensor:
    """(B, M, N) bool, True for tokens the combiner sees (reference
    ``mask_modalities``): one random modality per patch is always kept, plus
    ``int(N * (M - 1) * (1 - ratio))`` random other tokens of the tile."""
    b, m, n = batch_size, num_modalities, num_patches
    length = m * n
    keep_mod = torch.randint(m, (b, n), generator=generator)
    forced = keep_mod * n + torch.arange(n)
    len_keep = int(n * (m - 1) * (1 - ratio))
    noise = torch.rand(b, length, generator=generator)
    noise.scatter_(1, forced, 1.0 + 1.0)  # forced tokens sort last
    ids_keep = torch.argsort(noise, dim=1)[:, :len_keep]
    keep = torch.zeros(b, length, dtype=torch.bool)
    keep.scatter_(1, forced, True)
    keep.scatter_(1, ids_keep, True)
    return keep.view(b, m, n).to(device)


def drop_dates(inputs: Dict[str, torch.Tensor],
               series: Sequence[str],
               ratio: float = 0.5,
               generator: Optional[torch.Generator] = None) -> Dict[str, torch.Tensor]:
    """Keep ``max(1, int(T * (1 - ratio)))`` random dates of every series (reference
    ``mask_dates``), in their order; observed dates (``{m}_mask`` not all False) are
    preferred to padding. ``inputs`` in AnySat's layout (``{m}``, ``{m}_dates``,
    ``{m}_mask``); returns a new dict."""
    out = dict(inputs)
    for name in series:
        if name not in inputs or inputs[name].dim() != 5:
            continue
        x = inputs[name]
        b, t = x.shape[:2]
        keep = max(1, int(t * (1 - ratio)))
        if keep >= t:
            continue
        noise = torch.rand(b, t, generator=generator).to(x.device)
        mask = inputs.get(mask_key(name))
        if mask is not None and mask.dim() == 5 and mask.shape[1] == t:
            observed = mask.flatten(2).any(-1)
            noise = noise + (~observed).float()
        idx = torch.argsort(noise, dim=1)[:, :keep].sort(dim=1).values
        bi = torch.arange(b, device=x.device)[:, None]
        out[name] = x[bi, idx]
        out[dates_key(name)] = inputs[dates_key(name)][bi, idx]
        if mask is not None and mask.dim() == 5 and mask.shape[1] == t:
            out[mask_key(name)] = mask[bi, idx]
    return out


# ---------------------------------------------------------------------- EMA
class LinearMomentumEMA(ExponentialMovingAverage):
    """EMA whose momentum goes linearly from ``momentum`` to ``end_momentum``.

    mmengine's convention, as :class:`mmpretrain.models.utils.CosineEMA`:
    ``avg = (1 - m) * avg + m * new``; AnySat's decay 0.996 -> 1.0 is ``m`` 0.004 ->
    0. ``total_steps`` (default: ``max_iters`` of the message hub, the run's length)
    is the step at which ``end_momentum`` is reached.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.004,
                 end_momentum: float = 0.0,
                 total_steps: Optional[int] = None,
                 interval: int = 1,
                 device=None,
                 update_buffers: bool = False):
        super().__init__(
            model,
            momentum=momentum,
            interval=interval,
            device=device,
            update_buffers=update_buffers)
        self.end_momentum, self.total_steps = end_momentum, total_steps

    def momentum_at(self, steps: int) -> float:
        total = self.total_steps
        if total is None:
            total = MessageHub.get_current_instance().get_info('max_iters')
        frac = 0.0 if not total else min(float(steps) / float(total), 1.0)
        return self.momentum + (self.end_momentum - self.momentum) * frac

    def avg_func(self, averaged_param, source_param, steps):
        m = self.momentum_at(int(steps))
        averaged_param.mul_(1 - m).add_(source_param, alpha=m)


# ---------------------------------------------------------------------- predictor
@MODELS.register_module()
class AnySatPredictor(nn.Module):
    """JEPA predictor (after the reference's ``VisionTransformerPredictorMulti``).

    ``predictor_embed`` (D -> Dp), ``mask_token`` and ``cls_token`` (Dp),
    ``depth`` pre-norm blocks (Dp, ``num_heads``, qkv bias, LayerNorm eps 1e-5),
    ``predictor_norm``, ``predictor_proj`` (Dp -> D). At the reference's base
    settings (D = Dp = 768, depth 4, 16 heads): 29,535,744 parameters.

    ``forward(x, masks_x, masks, grid, scale)``: ``x`` (B, Kc, D) context patch tokens
    at the patches ``masks_x`` (B, Kc) of a ``grid`` (h, w); ``masks``: list of (B, Kt)
    target indices. Context tokens get their positions (scale-adaptive sin-cos,
    ``scale`` = patch size / 10 m), mask tokens the targets'; a cls token without
    position is prepended. Returns (len(masks) * B, Kt, D), target-block-major.
    """

    def __init__(self,
                 embed_dim: int = 768,
                 predictor_embed_dim: Optional[int] = None,
                 depth: int = 4,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0,
                 init_std: float = 0.02):
        super().__init__()
        dp = predictor_embed_dim or embed_dim
        self.predictor_embed_dim = dp
        self.predictor_embed = nn.Linear(embed_dim, dp, bias=True)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dp))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dp))
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.predictor_blocks = nn.ModuleList([
            RPEBlock(
                dp,
                num_heads,
                mlp_ratio,
                qkv_bias=qkv_bias,
                attn_drop=attn_drop_rate,
                drop_path=dpr[i],
                rpe=False,
                norm_eps=1e-5) for i in range(depth)
        ])
        self.predictor_norm = nn.LayerNorm(dp)
        self.predictor_proj = nn.Linear(dp, embed_dim, bias=True)
        self.init_std = init_std
        trunc_normal_(self.mask_token, std=init_std)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=init_std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for i, blk in enumerate(self.predictor_blocks):  # I-JEPA's fix_init_weight
            blk.attn.proj.weight.data.div_(math.sqrt(2.0 * (i + 1)))
            blk.mlp.fc2.weight.data.div_(math.sqrt(2.0 * (i + 1)))

    def forward(self, x, masks_x, masks: List[torch.Tensor], grid, scale):
        b = x.shape[0]
        dp = self.predictor_embed_dim
        pos = get_2d_sincos_pos_embed_with_scale(dp, tuple(grid), scale)
        pos = pos.to(x).expand(b, -1, -1)
        x = self.predictor_embed(x) + gather_patches(pos, masks_x)
        n_ctx = x.shape[1]
        targets = torch.cat([gather_patches(pos, m) for m in masks], dim=0)
        pred = self.mask_token.to(x) + targets
        x = x.repeat(len(masks), 1, 1)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x, pred], dim=1)
        for blk in self.predictor_blocks:
            x = blk(x)
        x = self.predictor_norm(x)
        return self.predictor_proj(x[:, 1 + n_ctx:])


# ---------------------------------------------------------------------- algorithm
@MODELS.register_module()
class AnySatJEPA(EMATeacherMixin, ModeForwardMixin, BaseModel):
    """AnySat's JEPA pretraining (see the module docstring).

    Args:
        backbone (dict): :class:`eofm.AnySat` config (the student / context encoder;
            the target encoder is its EMA copy).
        predictor (dict, optional): :class:`AnySatPredictor` overrides; ``embed_dim``
            is the backbone's. Default depth 4, 16 heads (the reference).
        patch_size (float | Sequence[float], optional): Patch size(s) in metres; a
            sequence draws one per batch (the paper's random P). Default: the
            backbone's.
        modality_map (dict, optional): Batch key -> AnySat modality (e.g.
            ``dict(hr='naip')``); every ``{key}_*`` entry is renamed alike.
        mask (dict, optional): :class:`MultiBlockMaskCollator` arguments.
        modality_drop_ratio (float): 0.5 (the reference's ``ratio``); 0 disables.
        date_drop_ratio (float): 0.5; 0 disables.
        base_momentum, end_momentum (float): EMA momenta in mmengine's convention
            (``1 - decay``): 0.004 -> 0 is AnySat's 0.996 -> 1.0, linear.
        momentum_steps (int, optional): Steps of the linear schedule (default: the
            run's ``max_iters``).
        contrastive (dict, optional): :class:`eofm.MILNCELoss` arguments (tau 0.1).
        pred_loss_weight (float): Weight of smooth-L1 (1.0).
        seed (int, optional): Seeds the generator of masks and dropouts (None: the
            global RNG).
        source_batch_sizes (Sequence[int], optional): Pretraining on several
            datasets at once (GeoPlex): the per-rank batch size of each source, as
            given to :class:`eofm.HeterogeneousBatchSampler`. Each training step
            then preprocesses and encodes every source's block on its own (tiles of
            different sizes, modalities and patch sizes), back-propagates each
            block's losses (summed over sources: one optimizer update per step) and
            logs them per source (``loss_pred_source{i}``...).
        source_patch_sizes (Sequence[Sequence[float]], optional): The patch sizes
            of each source (supplementary Table C); one is drawn per block.
        data_preprocessor (dict, optional): Usually
            :class:`eofm.MultiModalDataPreprocessor`.

    Modes: ``loss`` -> ``dict(loss_pred, loss_contrastive)``; ``tensor`` -> the
    student's ``'all'`` tokens; ``predict`` -> the target encoder's ``'tile'``
    embeddings (B, D). ``update_teacher()`` is called by :class:`eofm.TeacherEMAHook`.
    """

    def __init__(self,
                 backbone: dict,
                 predictor: Optional[dict] = None,
                 patch_size=None,
                 modality_map: Optional[dict] = None,
                 mask: Optional[dict] = None,
                 modality_drop_ratio: float = 0.5,
                 date_drop_ratio: float = 0.5,
                 base_momentum: float = 0.004,
                 end_momentum: float = 0.0,
                 momentum_steps: Optional[int] = None,
                 contrastive: Optional[dict] = None,
                 pred_loss_weight: float = 1.0,
                 seed: Optional[int] = None,
                 source_batch_sizes=None,
                 source_patch_sizes=None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if source_patch_sizes is not None and (source_batch_sizes is None
                                               or len(source_patch_sizes)
                                               != len(source_batch_sizes)):
            raise ValueError('AnySatJEPA: source_patch_sizes needs source_batch_sizes, '
                             'one entry per source')
        self.source_batch_sizes = (None if source_batch_sizes is None else
                                   [int(b) for b in source_batch_sizes])
        self.source_patch_sizes = (None if source_patch_sizes is None else
                                   [list(p) for p in source_patch_sizes])
        self._source = None  # the source block being trained
        self.backbone = MODELS.build(backbone)
        d = self.backbone.embed_dim
        pred_cfg = dict(depth=4, num_heads=16)
        pred_cfg.update(predictor or {})
        pred_cfg['embed_dim'] = d
        self.predictor = AnySatPredictor(**pred_cfg)
        self.modality_token = nn.Parameter(torch.zeros(1, 1, d))
        self.patch_sizes = (None if patch_size is None else
                            list(patch_size) if isinstance(patch_size,
                                                           (list,
                                                            tuple)) else [patch_size])
        self.modality_map = dict(modality_map or {})
        self.mask_collator = MultiBlockMaskCollator(**(mask or {}))
        self.modality_drop_ratio = modality_drop_ratio
        self.date_drop_ratio = date_drop_ratio
        self.loss_contrastive = MODELS.build(
            dict(type='eofm.MILNCELoss', **(contrastive or {})))
        self.pred_loss_weight = pred_loss_weight
        self.generator = None
        if seed is not None:
            self.generator = torch.Generator().manual_seed(seed)
        self.teacher = LinearMomentumEMA(
            self.backbone,
            momentum=base_momentum,
            end_momentum=end_momentum,
            total_steps=momentum_steps)

    # ------------------------------------------------------------------ EMA
    @torch.no_grad()
    def update_teacher(self):
        """One EMA step of the target encoder towards the student."""
        self.teacher.update_parameters(self.backbone)

    @property
    def target_encoder(self):
        return self.teacher.module

    # ------------------------------------------------------------------ helpers
    def _rename(self, inputs):
        if not self.modality_map:
            return inputs
        out = {}
        for key, value in inputs.items():
            new = key
            for src, dst in self.modality_map.items():
                if key == src or key.startswith(src + '_'):
                    new = dst + key[len(src):]
                    break
            out[new] = value
        return out

    def _patch_size(self, source=None):
        """A patch size of ``source`` (its list), else of ``patch_size``."""
        sizes = self.patch_sizes
        if source is not None and self.source_patch_sizes is not None:
            sizes = self.source_patch_sizes[source]
        if sizes is None:
            return None
        if len(sizes) == 1:
            return sizes[0]
        i = int(torch.randint(len(sizes), (1, ), generator=self.generator))
        return sizes[i]

    def train_step(self, data, optim_wrapper):
        """mmengine's step, or with ``source_batch_sizes`` one forward / backward
        per source block and one optimizer update."""
        if self.source_batch_sizes is None:
            return super().train_step(data, optim_wrapper)
        return self.source_train_step(data, optim_wrapper, self._run_forward)

    def source_train_step(self, data, optim_wrapper, run_forward):
        """The per-source step; ``run_forward`` is the (DDP) wrapper's forward (see
        :class:`eofm.SourceBlockDistributedDataParallel`)."""
        blocks = split_source_blocks(data, self.source_batch_sizes, 'AnySatJEPA')
        log_vars = {}
        try:
            for i, block in enumerate(blocks):
                self._source = i  # the patch sizes of this source
                with optim_wrapper.optim_context(self):
                    block = self.data_preprocessor(block, True)
                    losses = run_forward(block, mode='loss')
                parsed, logs = self.parse_losses(losses)
                optim_wrapper.backward(parsed)
                add_source_logs(log_vars, logs, i)
        finally:
            self._source = None
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        return log_vars

    # ------------------------------------------------------------------ modes
    def forward_tensor(self, inputs):
        """``mode='tensor'``: the student encoder's outputs (``output='all'``)."""
        return self.backbone(
            self._rename(inputs), patch_size=self._patch_size(), output='all')

    def named_features(self, inputs):
        """The target (EMA) encoder's maps by name, (B, D, gh, gw) on the patch grid:
        ``'patch'`` its output (:meth:`probe_features`), ``'spatial'`` the
        per-modality spatial-transformer tokens before the combiner, concatenated
        (M x D channels), and ``'spatial_{m}'`` each of them."""
        enc = self.target_encoder
        parts = enc.tokenize(self._rename(inputs), self._patch_size())
        (gh, gw), b = parts['grid'], parts['tokens'][0].shape[0]
        maps = {f'spatial_{m}': t.transpose(1, 2).reshape(b, -1, gh, gw)
                for m, t in zip(parts['names'], parts['tokens'])}
        out = enc.combine(parts)[:, 1:]
        return dict(patch=out.transpose(1, 2).reshape(b, -1, gh, gw),
                    spatial=torch.cat(list(maps.values()), dim=1), **maps)

    def probe_features(self, inputs):
        """The frozen-encoder probes' features: the target (EMA) encoder's patch
        tokens as a (B, D, gh, gw) map (I-JEPA evaluates the target encoder, and
        :meth:`predict` uses it)."""
        return self.target_encoder(self._rename(inputs), patch_size=self._patch_size(),
                                   output='patch').permute(0, 3, 1, 2)

    @torch.no_grad()
    def predict(self, inputs, data_samples=None):
        return self.target_encoder(
            self._rename(inputs), patch_size=self._patch_size(), output='tile')

    def loss(self, inputs, data_samples=None):
        enc = self.backbone
        batch = enc.adapt_batch(self._rename(inputs))
        patch_size = self._patch_size(self._source)
        g = self.generator
        # targets: the EMA encoder on the full batch, layer-normed patch tokens
        with torch.no_grad():
            target = self.target_encoder(batch, patch_size=patch_size, output='all')
            target = F.layer_norm(target[:, 1:], (target.shape[-1], ))
        student_in = batch
        if self.date_drop_ratio > 0:
            series = [m for m in batch if m in enc.specs and batch[m].dim() == 5]
            student_in = drop_dates(batch, series, self.date_drop_ratio, g)
        parts = enc.tokenize(student_in, patch_size)
        b = parts['tokens'][0].shape[0]
        masks_enc, masks_pred = self.mask_collator(b, parts['grid'], g)
        dev = target.device
        masks_enc = [m.to(dev) for m in masks_enc]
        masks_pred = [m.to(dev) for m in masks_pred]
        num_mod = len(parts['tokens'])
        preds = []
        for m_enc in masks_enc:
            token_keep = None
            if self.modality_drop_ratio > 0 and num_mod > 1:
                token_keep = modality_keep_mask(b, num_mod, m_enc.shape[1],
                                                self.modality_drop_ratio, g, dev)
            ctx = enc.combine(parts, m_enc, token_keep, self.modality_token)
            preds.append(
                self.predictor(ctx[:, 1:], m_enc, masks_pred, parts['grid'],
                               parts['scale']))
        pred = torch.cat(preds, dim=0)
        tgt = torch.cat([gather_patches(target, m) for m in masks_pred], dim=0)
        tgt = tgt.repeat(len(masks_enc), 1, 1)
        losses = dict(loss_pred=self.pred_loss_weight * F.smooth_l1_loss(pred, tgt))
        if num_mod > 1:
            losses['loss_contrastive'] = self.loss_contrastive(parts['tokens'])
        return losses
