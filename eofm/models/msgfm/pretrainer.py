"""msGFM cross-sensor SimMIM pretraining (paper Sec. 3.2-3.4, Eq. 1, appendix B.1).

For every sensor i of the batch (each one encoded separately by the shared
:class:`MsGFMSwin`):

* SimMIM masking (appendix B.1, Table 10: ratio 0.6, mask patch 32 px): per
  sample, ``ceil(ratio * n)`` of the n mask patches are masked; the same positions
  for all channels of a sensor (the mask acts on patch tokens), drawn
  independently for each sensor, so paired sensors are masked at different places;
* masked tokens are replaced by the encoder's mask token, ``En(f_i(I_i))`` is
  decoded by a light per-sensor decoder D_j (SimMIM: 1x1 conv to
  ``stride^2 * C_j`` channels + PixelShuffle(stride), stride 32);
* cross-sensor prediction (Eq. 1): if i is paired with j (``pairs``) and the
  sample has both, with probability ``cross_prob`` (0.5) the target is the paired
  image I_j and the decoder D_j; otherwise I_i with D_i;
* L1 loss on the masked pixels of the input sensor only, divided by the target's
  channels (SimMIM's normalisation), invalid target pixels (``<key>_mask``)
  excluded; ``L = sum_i L_MIM,i + lambda * L_aux`` with lambda = 0.01 and
  ``L_aux`` the MoE loss summed over the MoE blocks and the sensors' passes.

Inputs come from :class:`eofm.MultiModalDataPreprocessor`: a dict of (B, C, H, W)
(or (B, T, C, H, W) series: the first valid date is used) with ``<key>_present``
for samples that lack a sensor.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel, ModuleDict

from eofm.registry import MODELS
from eofm.structures.batch_schema import mask_key, present_key
from ..common.modes import ModeForwardMixin
from ..common.source_blocks import add_source_logs, split_source_blocks
from .backbone import single_date

__all__ = ['MsGFM']


@MODELS.register_module()
class MsGFM(ModeForwardMixin, BaseModel):
    """msGFM pretraining (see the module docstring).

    Args:
        backbone (dict): An ``eofm.MsGFMSwin`` config (``with_mask_token`` is
            set; the last stage must be in ``out_indices``, the default).
        pairs (Sequence[tuple[str, str]]): Paired sensors (symmetric), e.g.
            ``[('s1', 's2'), ('rgb', 'dsm')]``.
        cross_prob (float): Probability of reconstructing the paired sensor.
        mask_ratio (float): Fraction of mask patches masked (0.6).
        mask_patch_size (int | dict): Mask patch in pixels (32), or per sensor.
        aux_loss_weight (float): lambda of the MoE loss (0.01).
        sensor_keys (dict, optional): Batch key -> encoder sensor (e.g.
            ``dict(hr='rgb')``); by default the keys are the sensor names. Keys
            not mapped and not sensors are ignored.
        missing_partner (str): 'error' (default): a sample of a paired sensor
            whose partner is missing raises an error naming both; 'self': such
            samples reconstruct themselves (mixes of paired and unpaired data,
            e.g. GeoPile RGB next to MDAS RGB + DSM).
        data_preprocessor (dict, optional): Defaults to
            ``eofm.MultiModalDataPreprocessor``.
        source_batch_sizes (Sequence[int], optional): Per-rank batch size of each
            source, in the order of :class:`eofm.HeterogeneousBatchSampler`'s
            ``batch_sizes`` (the batch is one block per source, in that order).
        source_lr_scales (Sequence[float], optional): Learning-rate factor of each
            source (appendix B.1, Table 10: {1e-4, 0.25e-4, 1e-5} for RGB, SEN12MS,
            MDAS -> ``[1.0, 0.25, 0.1]`` with lr 1e-4). The encoder is shared, so a
            per-source rate only exists as separate updates: each training step
            then does one optimizer update per source, on that source's block and
            loss, with the group learning rates scaled by its factor (restored
            after). Without it one update covers the whole batch.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone,
                 pairs=(),
                 cross_prob=0.5,
                 mask_ratio=0.6,
                 mask_patch_size=32,
                 aux_loss_weight=0.01,
                 sensor_keys=None,
                 missing_partner='error',
                 data_preprocessor=None,
                 source_batch_sizes=None,
                 source_lr_scales=None,
                 init_cfg=None):
        data_preprocessor = data_preprocessor or dict(
            type='eofm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        backbone = dict(backbone, with_mask_token=True)
        self.backbone = MODELS.build(backbone)
        last = self.backbone.num_layers - 1
        if last not in self.backbone.out_indices:
            raise ValueError(f'MsGFM: the backbone must output its last stage '
                             f'(out_indices containing {last}), got '
                             f'{self.backbone.out_indices}')
        self._last = list(self.backbone.out_indices).index(last)
        sensors = self.backbone.sensors
        if not 0. <= cross_prob <= 1. or not 0. < mask_ratio < 1.:
            raise ValueError('MsGFM: cross_prob must be in [0, 1] and mask_ratio in '
                             f'(0, 1), got {cross_prob} and {mask_ratio}')
        if missing_partner not in ('error', 'self'):
            raise ValueError("MsGFM: missing_partner must be 'error' or 'self', got "
                             f'{missing_partner!r}')
        self.partner = {}
        for pair in pairs:
            a, b = pair
            for s in (a, b):
                if s not in sensors:
                    raise ValueError(f'MsGFM: paired sensor {s!r} is not declared '
                                     f'in the backbone ({sensors})')
            for s, t in ((a, b), (b, a)):
                if self.partner.get(s, t) != t:
                    raise ValueError(f'MsGFM: sensor {s!r} is in two pairs')
                self.partner[s] = t
        self.cross_prob, self.mask_ratio = cross_prob, mask_ratio
        if (source_lr_scales is None) != (source_batch_sizes is None) or (
                source_lr_scales is not None
                and len(source_lr_scales) != len(source_batch_sizes)):
            raise ValueError('MsGFM: source_lr_scales and source_batch_sizes go '
                             'together, one entry per source')
        self.source_batch_sizes = (None if source_batch_sizes is None else
                                   [int(b) for b in source_batch_sizes])
        self.source_lr_scales = (None if source_lr_scales is None else
                                 [float(f) for f in source_lr_scales])
        self.aux_loss_weight = aux_loss_weight
        self.missing_partner = missing_partner
        self.sensor_keys = dict(sensor_keys or {})
        self.key_of = {s: k for k, s in self.sensor_keys.items()}
        self.stride = self.backbone.encoder_stride
        sizes = mask_patch_size if isinstance(mask_patch_size, dict) else {
            s: mask_patch_size
            for s in sensors
        }
        for s in sensors:
            m = sizes.get(s)
            if m is None or m % self.backbone.patch_size:
                raise ValueError(f'MsGFM: the mask patch of {s!r} ({m}) must be a '
                                 f'multiple of the patch size '
                                 f'{self.backbone.patch_size}')
        self.mask_patch_size = sizes
        dims = self.backbone.num_features[last]
        self.decoders = ModuleDict({
            s:
            nn.Sequential(
                nn.Conv2d(dims, self.stride**2 * c, kernel_size=1),
                nn.PixelShuffle(self.stride))
            for s, c in sensors.items()
        })

    # ------------------------------------------------------------------ training
    def train_step(self, data, optim_wrapper):
        """One update, or one per source with its learning-rate factor
        (``source_lr_scales``)."""
        if self.source_lr_scales is None:
            return super().train_step(data, optim_wrapper)
        return self.source_train_step(data, optim_wrapper, self._run_forward)

    def source_train_step(self, data, optim_wrapper, run_forward):
        """One update per source block at its learning-rate factor; ``run_forward``
        is the (DDP) wrapper's forward (see
        :class:`eofm.SourceBlockDistributedDataParallel`)."""
        blocks = split_source_blocks(data, self.source_batch_sizes, 'MsGFM')
        log_vars = {}
        for i, (part, factor) in enumerate(zip(blocks, self.source_lr_scales)):
            with optim_wrapper.optim_context(self):
                part = self.data_preprocessor(part, True)
                losses = run_forward(part, mode='loss')
            parsed, logs = self.parse_losses(losses)
            groups = optim_wrapper.param_groups
            saved = [g['lr'] for g in groups]
            for g in groups:
                g['lr'] = g['lr'] * factor
            try:
                optim_wrapper.update_params(parsed)
            finally:
                for g, lr in zip(groups, saved):
                    g['lr'] = lr
            add_source_logs(log_vars, logs, i)
        return log_vars

    # ------------------------------------------------------------------ inputs
    def _sensor_images(self, inputs):
        """{sensor: (key, (B, C, H, W) image, (B,) present)} of the batch."""
        out = {}
        for key in inputs:
            sensor = self.sensor_keys.get(key, key)
            if sensor not in self.backbone.sensors or not torch.is_tensor(
                    inputs[key]) or inputs[key].dim() not in (4, 5):
                continue
            x = single_date(inputs, key)
            present = inputs.get(present_key(key))
            if present is None:
                present = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
            out[sensor] = (key, x, present.bool())
        if not out:
            raise ValueError(f'MsGFM: no declared sensor in the batch (keys: '
                             f'{sorted(inputs)}, sensors: {self.backbone.sensors}, '
                             f'sensor_keys: {self.sensor_keys})')
        return out

    def random_mask(self, batch_size, height, width, sensor, device=None):
        """(B, H / m, W / m) bool SimMIM mask of one sensor (True = masked)."""
        m = self.mask_patch_size[sensor]
        if height % m or width % m:
            raise ValueError(f'MsGFM: {sensor!r} images of {height}x{width} px are '
                             f'not a whole number of {m} px mask patches')
        if height % self.stride or width % self.stride:
            raise ValueError(f'MsGFM: {sensor!r} images of {height}x{width} px are '
                             f'not a multiple of the encoder stride {self.stride}')
        gh, gw = height // m, width // m
        n = gh * gw
        count = int(math.ceil(n * self.mask_ratio))
        order = torch.rand(batch_size, n, device=device).argsort(dim=1)
        mask = torch.zeros(batch_size, n, dtype=torch.bool, device=device)
        mask.scatter_(1, order[:, :count], True)
        return mask.view(batch_size, gh, gw)

    def _targets(self, sensor, present, images):
        """Per sample: the target sensor (itself or its partner, Eq. 1)."""
        b = present.shape[0]
        targets = [sensor] * b
        partner = self.partner.get(sensor)
        if partner is None:
            return targets
        has = images[partner][2] if partner in images else torch.zeros_like(present)
        lacking = present & ~has
        if lacking.any() and self.missing_partner == 'error':
            raise ValueError(
                f'MsGFM: sensor {sensor!r} is paired with {partner!r}, which is '
                f'missing for {int(lacking.sum())} of its samples in the batch; '
                "give both or use missing_partner='self'")
        if self.cross_prob > 0 and partner in images:
            cross = (torch.rand(b, device=present.device) < self.cross_prob) & has
            targets = [partner if c else sensor for c in cross.tolist()]
        return targets

    # ------------------------------------------------------------------ model
    def reconstruct(self, inputs, cross=True):
        """Mask, encode and decode every sensor of the batch.

        Returns:
            dict: sensor -> dict(``mask`` (B', h, w) bool on the mask-patch grid,
            ``pixel_mask`` (B', 1, H, W), ``groups``: list of dict(``target_sensor``,
            ``index`` (samples of B'), ``pred``, ``target``, ``valid``)), B' the
            samples that have the sensor, ``aux_loss`` of its encoder pass.
        """
        images = self._sensor_images(inputs)
        results = {}
        for sensor, (key, x, present) in images.items():
            if not present.any():
                continue
            idx = present.nonzero(as_tuple=True)[0]
            if cross:
                targets = self._targets(sensor, present, images)
            else:
                targets = [sensor] * present.shape[0]
            targets = [targets[i] for i in idx.tolist()]
            xs = x[idx]
            b, _, h, w = xs.shape
            mask = self.random_mask(b, h, w, sensor, device=xs.device)
            feats = self.backbone(xs, sensor, mask=mask)[self._last]
            aux = self.backbone.aux_loss
            m = self.mask_patch_size[sensor]
            pixel_mask = mask.repeat_interleave(m, 1).repeat_interleave(m,
                                                                        2).unsqueeze(1)
            groups = []
            for tsensor in dict.fromkeys(targets):
                sel = torch.tensor([t == tsensor for t in targets], device=xs.device)
                local = sel.nonzero(as_tuple=True)[0]
                tkey, timg, _ = images[tsensor]
                target = timg[idx[local]]
                if target.shape[-2:] != xs.shape[-2:]:
                    raise ValueError(f'MsGFM: cross-sensor target {tsensor!r} is '
                                     f'{tuple(target.shape[-2:])} px, {sensor!r} is '
                                     f'{tuple(xs.shape[-2:])} px; resample the pair '
                                     'to one size in the pipeline')
                valid = inputs.get(mask_key(tkey))
                if valid is not None and valid.dim() == 3:
                    valid = valid[idx[local]].unsqueeze(1)
                else:
                    valid = None
                pred = self.decoders[tsensor](feats[local])
                groups.append(
                    dict(
                        target_sensor=tsensor,
                        index=local,
                        pred=pred,
                        target=target,
                        valid=valid))
            results[sensor] = dict(
                mask=mask, pixel_mask=pixel_mask, groups=groups, aux_loss=aux)
        return results

    @staticmethod
    def masked_l1(pred, target, mask):
        """SimMIM loss: L1 over masked pixels / (masked pixels * channels)."""
        mask = mask.to(pred.dtype)
        loss = F.l1_loss(pred, target.to(pred.dtype), reduction='none')
        return (loss * mask).sum() / (mask.sum() + 1e-5) / pred.shape[1]

    def loss(self, inputs, data_samples=None):
        results = self.reconstruct(inputs)
        losses = {}
        aux = []
        for sensor, res in results.items():
            total, weight = 0., 0
            for g in res['groups']:
                mask = res['pixel_mask'][g['index']]
                if g['valid'] is not None:
                    mask = mask & g['valid'].bool()
                n = g['index'].numel()
                total = total + self.masked_l1(g['pred'], g['target'], mask) * n
                weight += n
            losses[f'loss_mim_{sensor}'] = total / weight
            aux.append(res['aux_loss'])
        if self.aux_loss_weight and aux:
            losses['loss_aux'] = self.aux_loss_weight * torch.stack(aux).sum()
        return losses

    def predict(self, inputs, data_samples=None):
        """Self-reconstruction of every sensor (no cross-sensor targets)."""
        results = self.reconstruct(inputs, cross=False)
        return {
            s: dict(pred=r['groups'][0]['pred'], mask=r['pixel_mask'])
            for s, r in results.items()
        }

    def extract_feat(self, inputs):
        """{sensor: tuple of feature maps} of the unmasked batch."""
        return {
            s: self.backbone(x[p], s)
            for s, (_, x, p) in self._sensor_images(inputs).items() if p.any()
        }

    def named_features(self, inputs):
        """{sensor: (B, C, h, w) last-stage map} of every sensor in the batch (the
        whole batch; a sample without the sensor gives zeros there)."""
        out = {}
        for s, (_, x, present) in self._sensor_images(inputs).items():
            f = self.backbone(x, s)[-1]
            out[s] = f * present.view(-1, 1, 1, 1).to(f.dtype)
        return out

    def probe_features(self, inputs):
        """The frozen-encoder probes' features: every sensor's last-stage map
        (:meth:`named_features`), resized to the finest of their grids (bilinear)
        and concatenated over the channels, in the batch's sensor order. The
        encoder is shared, but its features of two sensors are not averaged: the
        probe sees what each sensor gives."""
        maps = list(self.named_features(inputs).values())
        size = max((f.shape[-2:] for f in maps), key=lambda hw: hw[0] * hw[1])
        return torch.cat([
            f if f.shape[-2:] == size else F.interpolate(
                f, size=size, mode='bilinear', align_corners=False) for f in maps
        ], dim=1)

    def forward_tensor(self, inputs):
        """``mode='tensor'``: the backbone's features."""
        return self.extract_feat(inputs)
