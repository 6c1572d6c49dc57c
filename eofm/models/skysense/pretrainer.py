"""SkySense pretraining (paper Sec. 3.3, Fig. 3, Eq. 4-14), as an mmpretrain algorithm.

Teacher-student: two augmented view groups {u_i}, {v_i} of each multi-modal sample
(:class:`eofm.datasets.MultiModalMultiView`) go through the student and an EMA
teacher (mmpretrain's ``CosineEMA``: the teacher's momentum follows a cosine from
``base_momentum`` to ``end_momentum`` over the run; updated after every iteration by
:class:`eofm.engine.TeacherEMAHook`). The losses:

* Multi-Granularity Contrastive Learning (Eq. 5-9): for each single-modal feature
  F_i (the encoders' tokens on the fusion grid, one map per date) and for the fused
  feature F_fus, the DINO loss (:class:`DINOLoss`, projection heads
  :class:`DINOProjectionHead` per source) at
  - pixel level (Eq. 5): every student cell against the teacher cell of the other
    view at the same ground location (pairs from the views' crop geometry,
    :func:`eofm.structures.match_views`), averaged over space and real dates;
  - object level (Eq. 6): the matched teacher features of one image are clustered
    into ``num_clusters`` groups with Sinkhorn-Knopp; the assignment pools both
    views' features into cluster centres, which are contrasted;
  - image level (Eq. 7): average-pooled features of each view and date.
  Both view orders are used (student u vs teacher v and student v vs teacher u);
  extra views (multi-crop) are student-only and contrasted with both teachers.
* Cross-Modal Alignment (Eq. 10): InfoNCE between the time-averaged features of
  every pair of modalities at the same locations, student branch, view u.
* Geo-Context Prototype Learning (Eq. 11-13): student F_fus^mm updates the region
  prototypes (a buffer) without gradient (:mod:`.geo_prototype_learning`); the
  teacher copies them with its other buffers at every EMA step.

L = alpha * L_MGCL + beta * L_align (Eq. 14). The teacher's backbone is what is
exported for downstream use (``tools/model_converters/skysense_teacher.py``).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import ModuleDict
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.models.utils import CosineEMA
from torch.profiler import record_function

from eofm.registry import MODELS
from eofm.structures.view_geometry import match_views
from eofm.structures.batch_schema import LONLAT
from ..common.sinkhorn import sinkhorn_knopp
from ..common.teacher import EMATeacherMixin
from .outputs import valid_date_mean

__all__ = ['SkySensePretrainer']

LEVELS = ('pix', 'obj', 'img')
# Name parts inserted by FSDP / activation-checkpoint wrappers.
_WRAPPER_PARTS = ('_fsdp_wrapped_module.', '_checkpoint_wrapped_module.')


def _clean(name):
    for part in _WRAPPER_PARTS:
        name = name.replace(part, '')
    return name


class _Unwrapped:
    """A module seen with its parameter names as before FSDP wrapped it.

    ``CosineEMA`` matches the teacher's parameters to the student's by name; under
    FSDP the student's names gain ``_fsdp_wrapped_module.`` parts (the teacher's
    dict was made before wrapping). With ``use_orig_params=True`` student and teacher
    units shard alike, so the averaging of the shards stays element-wise correct.
    """

    def __init__(self, module):
        self.module = module

    def named_parameters(self):
        return ((_clean(k), p) for k, p in self.module.named_parameters())

    def state_dict(self):
        return {_clean(k): v for k, v in self.module.state_dict().items()}

    def buffers(self):
        return self.module.buffers()


@MODELS.register_module()
class SkySensePretrainer(EMATeacherMixin, BaseSelfSupervisor):
    """SkySense's self-supervised pretraining (see the module docstring).

    Args:
        backbone (dict): An ``eofm.SkySense`` config (with the fusion; with
            ``geo_context=True`` for prototype learning).
        head (dict): :class:`DINOProjectionHead` arguments shared by the sources
            (``out_channels``, ``hidden_channels``, ``bottleneck_channels``).
        loss (dict): :class:`DINOLoss` arguments (temperatures, centre momentum).
        align (dict): :class:`CrossModalAlignmentLoss` arguments.
        levels (Sequence[str]): Granularities of MGCL among 'pix', 'obj', 'img'.
        num_clusters (int): N_C of the object level.
        cluster_iterations (int): Assignment / centre refinement rounds.
        max_pairs (int): Pixel pairs per image and date (random subset).
        alpha, beta (float): Weights of L_MGCL and L_align (Eq. 14).
        base_momentum, end_momentum (float): Teacher EMA ``CosineEMA`` momenta
            (1 - the DINO teacher momentum: 0.004 -> 0 is 0.996 -> 1).
        prototype (dict): ``momentum`` (m of Eq. 13), ``iterations``, ``epsilon``
            of the prototype Sinkhorn.
        data_preprocessor (dict): Defaults to ``eofm.MultiModalDataPreprocessor``.
    """

    def __init__(self,
                 backbone,
                 head=None,
                 loss=None,
                 align=None,
                 levels=LEVELS,
                 num_clusters=8,
                 cluster_iterations=3,
                 max_pairs=256,
                 alpha=1.0,
                 beta=1.0,
                 base_momentum=0.004,
                 end_momentum=0.0,
                 prototype=None,
                 data_preprocessor=None,
                 init_cfg=None):
        data_preprocessor = data_preprocessor or dict(
            type='eofm.MultiModalDataPreprocessor')
        super().__init__(
            backbone=backbone, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        sky = self.backbone
        if not sky.use_fusion:
            raise ValueError('SkySensePretrainer: the backbone needs use_fusion=True')
        bad = [lv for lv in levels if lv not in LEVELS]
        if bad or not levels:
            raise ValueError(f'SkySensePretrainer: levels must be among {LEVELS}, got '
                             f'{tuple(levels)}')
        self.levels, self.num_clusters = tuple(levels), num_clusters
        self.cluster_iterations, self.max_pairs = cluster_iterations, max_pairs
        self.alpha, self.beta = alpha, beta
        self.prototype = dict(
            dict(momentum=0.99, iterations=3, epsilon=0.05), **(prototype or {}))
        token_dims = sky.token_dims
        fused_dims = sky.geo_context.out_channels if hasattr(
            sky, 'geo_context') else sky.fusion.embed_dims
        self.sources = list(sky.modalities) + ['fus']
        head = dict(
            dict(out_channels=1024, hidden_channels=512, bottleneck_channels=128),
            **(head or {}))
        self.heads = ModuleDict({
            src:
            MODELS.build(
                dict(
                    type='eofm.DINOProjectionHead',
                    in_channels=fused_dims if src == 'fus' else token_dims,
                    **head))
            for src in self.sources
        })
        self.loss_cl = MODELS.build(
            dict(
                type='eofm.DINOLoss',
                out_channels=head['out_channels'],
                streams=[f'{s}.{lv}' for s in self.sources for lv in self.levels],
                **(loss or {})))
        self.loss_align = MODELS.build(
            dict(type='eofm.CrossModalAlignmentLoss', **(align or {})))
        geo = getattr(sky, 'geo_context', None)
        if geo is not None and isinstance(geo.prototypes, nn.Parameter):
            raise ValueError('SkySensePretrainer: the geo prototypes are learned by '
                             'EMA, not by gradient: use geo=dict(trainable=False)')
        self.teacher = CosineEMA(
            nn.ModuleDict(dict(backbone=sky, heads=self.heads)),
            momentum=base_momentum,
            end_momentum=end_momentum)

    # ------------------------------------------------------------------ features
    @staticmethod
    def _sources(out):
        """{source: ((B, T, C, h, w) maps, (B, T) valid)} of forward_features."""
        maps = {m: (t, out['valid'][m]) for m, t in out['tokens'].items()}
        fused = out['fused']
        maps['fus'] = (fused[:, None],
                       torch.ones(
                           fused.shape[0], 1, dtype=torch.bool, device=fused.device))
        return maps

    def _teacher_features(self, view):
        with torch.no_grad():
            return self._sources(self.teacher.module['backbone'](view).features)

    # ------------------------------------------------------------------ losses
    def _pairs(self, geo_s, geo_t, size_s, size_t, device):
        ia, ib = match_views(geo_s, geo_t, size_s, size_t)
        if self.max_pairs and len(ia) > self.max_pairs:
            keep = torch.randperm(len(ia))[:self.max_pairs].numpy()
            ia, ib = ia[keep], ib[keep]
        return (torch.as_tensor(ia, device=device), torch.as_tensor(ib, device=device))

    #: MGCL over all images of a view at once when they have as many cell pairs
    #: (the same numbers as the per-image loop, which the tests compare it with).
    batch_images = True

    def _cluster(self, student, teacher):
        """Object-level features: Sinkhorn clusters of the teacher's matched pixels.

        ``student``/``teacher``: (T, P, C) features of the same P locations. Returns
        (T, N_C, C) cluster centres of each, pooled with the same assignment.
        """
        p = teacher.shape[1]
        k = min(self.num_clusters, p)
        t_norm = F.normalize(teacher.float(), dim=-1)
        centres = t_norm[:, torch.linspace(0, p - 1, k).long()]
        for _ in range(self.cluster_iterations):
            with record_function('pretrain.sinkhorn'):
                assign = sinkhorn_knopp(t_norm @ centres.transpose(1, 2))  # (T, P, k)
            weights = assign / assign.sum(1, keepdim=True).clamp_min(1e-12)
            centres = F.normalize(weights.transpose(1, 2) @ t_norm, dim=-1)
        weights = weights.to(student.dtype)
        return weights.transpose(1, 2) @ student, weights.transpose(1, 2) @ teacher

    #: The projection heads run once per source on the rows of every level and view
    #: order together (a head is row-wise, so these are the same logits as one call
    #: per level and order, which the tests compare it with).
    batch_heads = True

    def _mgcl_inputs(self, s_maps, t_maps, geo_s, geo_t):
        """The rows MGCL contrasts for one view order (student view, teacher view).

        Returns ``{source: [(level, student rows (N, C), teacher rows (N, C),
        weights (N,)), ...]}``: image level (Eq. 7, the maps' mean per date), pixel
        level (Eq. 5, matched cells of the same ground) and object level (Eq. 6,
        Sinkhorn clusters of the matched cells).
        """
        rows = {}
        pairs = {}  # (student grid, teacher grid) -> per-image cell pairs
        for src in self.sources:
            fs, valid_s = s_maps[src]
            ft, valid_t = t_maps[src]
            b, t, c = fs.shape[:3]
            valid = (valid_s & valid_t).float()  # (B, T): same dates in both views
            out = rows[src] = []
            if 'img' in self.levels:
                out.append(('img', fs.mean((-2, -1)).reshape(-1, c),
                            ft.mean((-2, -1)).reshape(-1, c), valid.reshape(-1)))
            if 'pix' not in self.levels and 'obj' not in self.levels:
                continue
            pix_s, pix_t, pix_w, obj_s, obj_t, obj_w = [], [], [], [], [], []
            grids = (tuple(fs.shape[-2:]), tuple(ft.shape[-2:]))
            if grids not in pairs:  # every source is on the fusion grid: reuse
                pairs[grids] = [
                    self._pairs(geo_s[i], geo_t[i], *grids, fs.device) for i in range(b)
                ]
            counts = {len(ia) for ia, _ in pairs[grids]}
            batched = self.batch_images and len(counts) == 1 and counts != {0}
            if batched:
                # every image has as many cell pairs (the usual case with max_pairs):
                # all images at once, rows in the same (image, date, pair) order
                idx_s = torch.stack([ia for ia, _ in pairs[grids]])  # (B, P)
                idx_t = torch.stack([ib for _, ib in pairs[grids]])
                n = idx_s.shape[1]
                a = fs.flatten(-2).gather(-1, idx_s[:, None, None].expand(b, t, c, n))
                bt = ft.flatten(-2).gather(-1, idx_t[:, None, None].expand(b, t, c, n))
                a, bt = a.transpose(2, 3), bt.transpose(2, 3)  # (B, T, P, C)
                pix_s.append(a.reshape(-1, c))
                pix_t.append(bt.reshape(-1, c))
                pix_w.append(valid[:, :, None].expand(b, t, n).reshape(-1))
                if 'obj' in self.levels:
                    cs, ct = self._cluster(a.flatten(0, 1), bt.flatten(0, 1))
                    obj_s.append(cs.reshape(-1, c))
                    obj_t.append(ct.reshape(-1, c))
                    obj_w.append(valid[:, :, None].expand(b, t, cs.shape[1]).reshape(-1))
            for i in range(0 if batched else b):
                ia, ib = pairs[grids][i]
                if len(ia) == 0:
                    continue
                a = fs[i].flatten(-2)[..., ia].transpose(1, 2)  # (T, P, C)
                bt = ft[i].flatten(-2)[..., ib].transpose(1, 2)
                w = valid[i][:, None].expand(t, len(ia))
                pix_s.append(a.reshape(-1, c))
                pix_t.append(bt.reshape(-1, c))
                pix_w.append(w.reshape(-1))
                if 'obj' in self.levels:
                    cs, ct = self._cluster(a, bt)
                    obj_s.append(cs.reshape(-1, c))
                    obj_t.append(ct.reshape(-1, c))
                    obj_w.append(valid[i][:, None].expand(t, cs.shape[1]).reshape(-1))
            for level, (xs, xt, ws) in (('pix', (pix_s, pix_t, pix_w)),
                                        ('obj', (obj_s, obj_t, obj_w))):
                if level in self.levels and xs:
                    out.append((level, torch.cat(xs), torch.cat(xt), torch.cat(ws)))
        return rows

    def _mgcl(self, orders, heads_t):
        """Sums over view orders and sources of the pixel / object / image losses.

        ``orders``: the :meth:`_mgcl_inputs` of each (student, teacher) view order.
        Each stream's loss calls (and so its centre updates) keep the order of
        ``orders``.
        """
        losses = {lv: 0.0 for lv in self.levels}
        for src in self.sources:
            items = [item for rows in orders for item in rows[src]]
            if not items:
                continue
            head_s, head_t = self.heads[src], heads_t[src]
            if self.batch_heads:
                sizes = [len(xs) for _, xs, _, _ in items]
                zs = head_s(torch.cat([xs for _, xs, _, _ in items])).split(sizes)
                with torch.no_grad():
                    zt = head_t(torch.cat([xt for _, _, xt, _ in items])).split(sizes)
            else:
                zs = [head_s(xs) for _, xs, _, _ in items]
                with torch.no_grad():
                    zt = [head_t(xt) for _, _, xt, _ in items]
            for (level, _, _, w), a, b in zip(items, zs, zt):
                losses[level] = losses[level] + self.loss_cl(a, b, f'{src}.{level}', w)
        return losses

    def _align(self, s_maps):
        mods = [m for m in self.sources if m != 'fus']
        total, n = 0.0, 0
        pooled = {}
        for m in mods:
            f, valid = s_maps[m]
            mean = valid_date_mean(f, valid)  # (B, C, h, w)
            pooled[m] = (mean.flatten(2).transpose(1, 2).reshape(-1, f.shape[2]),
                         valid.any(1)[:, None].expand(-1, f.shape[-2] *
                                                      f.shape[-1]).reshape(-1))
        for i, a in enumerate(mods):
            for bmod in mods[i + 1:]:
                (fa, va), (fb, vb) = pooled[a], pooled[bmod]
                total = total + self.loss_align(fa, fb, va & vb)
                n += 1
        return total if n else None

    # ------------------------------------------------------------------ training
    def loss(self, inputs, data_samples, **kwargs):
        """Losses of one batch of view groups.

        ``inputs`` is a list of view batches: views 0 and 1 are the global views
        (u, v) that both branches see; further views (multi-crop, e.g. smaller
        local HR crops) go through the student only and are contrasted with the
        teacher's u and v, as in DINO.
        """
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError('SkySensePretrainer: expects two views per sample (use '
                             'eofm.MultiModalMultiView with two view pipelines)')
        geos = [[g[k] for g in (s.view_geometries for s in data_samples)]
                for k in range(len(inputs))]
        sky = self.backbone
        with record_function('pretrain.student'):
            outs = [sky(view).features for view in inputs]
        students = [self._sources(o) for o in outs]
        with record_function('pretrain.teacher'):
            teachers = [self._teacher_features(view) for view in inputs[:2]]
        orders = [(i, j) for i in range(len(students)) for j in range(len(teachers))
                  if i != j]
        with record_function('pretrain.mgcl'):
            sums = self._mgcl([
                self._mgcl_inputs(students[i], teachers[j], geos[i], geos[j])
                for i, j in orders
            ], self.teacher.module['heads'])
        losses = {
            f'loss_{lv}': self.alpha * sums[lv] / len(orders)
            for lv in self.levels
        }
        with record_function('pretrain.align'):
            align = self._align(students[0])
        if align is not None and self.beta > 0:
            losses['loss_align'] = self.beta * align
        if hasattr(sky, 'geo_context') and self.training:
            with record_function('pretrain.prototypes'):
                sky.geo_context.update_prototypes(outs[0]['fused_mm'].detach(),
                                                  inputs[0].get(LONLAT), **self.prototype)
        return losses

    @torch.no_grad()
    def update_teacher(self):
        """One EMA step of the teacher towards the student (buffers, the geo
        prototypes among them, are copied).

        Called by :class:`eofm.engine.TeacherEMAHook` after every training
        iteration, outside the forward pass: under FSDP the parameters are only
        registered (as shards) between forward passes.
        """
        with record_function('pretrain.teacher_ema'):
            self.teacher.update_parameters(
                _Unwrapped(
                    nn.ModuleDict(dict(backbone=self.backbone, heads=self.heads))))

    def extract_feat(self, inputs):
        """Features of the teacher backbone (the exported one)."""
        return self.teacher.module['backbone'](inputs)

    def named_features(self, inputs):
        """The teacher backbone's feature maps by name (see
        :meth:`eofm.models.SkySense.named_features`)."""
        return self.teacher.module['backbone'].named_features(inputs)
