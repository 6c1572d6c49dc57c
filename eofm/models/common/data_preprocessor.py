"""Batching of variable-length multi-modal samples for every eofm model."""
import torch
from mmengine.model import BaseDataPreprocessor

from eofm.datasets.normalization import resolve_normalize
from eofm.registry import MODELS
from eofm.structures import TASK_SAMPLE_CONVERTERS, zero_invalid_pixels
from eofm.structures.batch_schema import (DATE_MASK, DOY, LONLAT, MASK, companion_keys,
                                          date_mask_key, doy_key, modality_names,
                                          present_key)

__all__ = ['MultiModalDataPreprocessor']


def _pad_to(t, length):
    if t.shape[0] == length:
        return t
    pad = torch.zeros((length - t.shape[0], *t.shape[1:]),
                      dtype=t.dtype,
                      device=t.device)
    return torch.cat([t, pad], dim=0)


def _is_dict_of_lists(x):
    return isinstance(x, dict) and bool(x) and all(
        isinstance(v, (list, tuple)) for v in x.values())


def _to_sample_list(samples):
    """Undo mmengine's ``pseudo_collate`` (a dict of lists) into per-sample dicts."""
    if _is_dict_of_lists(samples):
        n = len(next(iter(samples.values())))
        return [{k: v[i] for k, v in samples.items()} for i in range(n)]
    return samples


@MODELS.register_module()
class MultiModalDataPreprocessor(BaseDataPreprocessor):
    """Stack per-sample modality dicts into batch tensors, normalise, move to device.

    Input: ``dict(inputs=[{m: tensor, m_mask, m_doy, m_date_mask}, ...],
    data_samples=[...])`` as :class:`PackMultiModalInputs` and
    ``eofm.multimodal_collate`` produce it (MMEngine's ``pseudo_collate`` works too
    while every sample has the same modalities; it fails on a missing one). Output
    ``inputs`` holds, per modality ``m`` (the keys of :mod:`eofm.structures.batch_schema`):

    * ``m``: (B, C, H, W) static or (B, T, C, H, W) dated, float, normalised with
      the configured per-band ``mean``/``std``; pixels invalid in ``m_mask`` are 0
      after normalisation, for every modality (:func:`zero_invalid_pixels`), so
      what the files hold under their nodata never reaches a model;
    * ``m_mask``: validity, (B, H, W) or (B, T, H, W);
    * ``m_doy`` (B, T) and ``m_date_mask`` (B, T): series of different lengths are
      padded to the longest with ``m_date_mask`` False;
    * ``m_present``: (B,) bool, False for samples that lack the modality (their
      tensors are zeros), so that a model can mask a missing modality.

    * ``lonlat``: (B, 2) longitude and latitude in degrees from the samples'
      ``geo`` metainfo (NaN where unknown; absent when no sample has them), used by
      geo-context modules.

    Multi-view samples (``inputs`` of each sample a list of view dicts, from
    :class:`MultiModalMultiView`) give a list of such batches, one per view.

    Args:
        normalize (dict | str, optional): Modality -> ``dict(mean=[...], std=[...])``
            per band; a modality's entry, or the whole argument, may name the JSON
            file ``tools/analysis_tools/dataset_stats.py --out`` wrote
            (:mod:`eofm.datasets.normalization`).
        normalize_from (str): When the model starts from an eofm checkpoint that
            records the statistics its weights were trained with
            (``meta['eofm_data_contract']``): ``'checkpoint'`` (default) uses those
            for the modalities it has, ``'config'`` keeps ``normalize`` on purpose.
            Resolved by :func:`eofm.apis.apply_checkpoint_normalization` before the
            model is built; the preprocessor itself only stores it.
        non_blocking (bool): Passed to the device copy.
        task (str, optional): Convert the data samples for a host library's
            model and metrics: 'seg' (mmseg ``SegDataSample`` with ``gt_sem_seg``,
            for ``EncoderDecoder`` + ``IoUMetric``) or 'cls' (mmpretrain
            ``DataSample`` with ``gt_label`` / ``gt_score``, for
            ``ImageClassifier`` + accuracy / multi-label metrics). None keeps
            :class:`MultiModalDataSample` (eofm's own models).
        tensor_input (str, optional): Give this modality's pixel batch alone as
            ``inputs`` (a tensor instead of the dict), for host models that need
            a tensor, e.g. mmseg's sliding-window inference.
        predict_grid (str, optional): For ``task='seg'`` samples without
            ``gt_seg_map`` (unlabelled data through ``predict``): the modality whose
            (H, W) the segmentor predicts on. Default: ``tensor_input``, else the
            finest grid of the batch.
        batch_augments (None): Must be None; accepted because mmpretrain's
            ``ImageClassifier`` always passes its ``train_cfg.augments`` here.
            Mixup / CutMix mix one image tensor and are not defined for
            multi-modal, multi-date batches.
    """

    def __init__(self,
                 normalize=None,
                 non_blocking=False,
                 task=None,
                 tensor_input=None,
                 predict_grid=None,
                 batch_augments=None,
                 normalize_from='checkpoint'):
        super().__init__(non_blocking=non_blocking)
        if normalize_from not in ('checkpoint', 'config'):
            raise ValueError("MultiModalDataPreprocessor: normalize_from must be "
                             f"'checkpoint' or 'config', got {normalize_from!r}")
        self.normalize_from = normalize_from
        if batch_augments is not None:
            raise ValueError('MultiModalDataPreprocessor: batch augments (Mixup / '
                             'CutMix, model.train_cfg.augments) mix one image tensor; '
                             'they are not supported on multi-modal batches')
        if task is not None and task not in TASK_SAMPLE_CONVERTERS:
            raise ValueError(f'MultiModalDataPreprocessor: task must be one of '
                             f'{sorted(TASK_SAMPLE_CONVERTERS)} or None, got {task!r}')
        self.task = task
        self.tensor_input = tensor_input
        self.predict_grid = predict_grid
        self.normalize = {}
        for name, stats in resolve_normalize(normalize).items():
            mean = torch.as_tensor(stats['mean'], dtype=torch.float32)
            std = torch.as_tensor(stats['std'], dtype=torch.float32)
            if mean.shape != std.shape or mean.dim() != 1:
                raise ValueError(f'normalize.{name}: mean and std must be lists of '
                                 f'equal length, got {list(mean.shape)} and '
                                 f'{list(std.shape)}')
            if (std <= 0).any():
                raise ValueError(f'normalize.{name}: std must be positive')
            self.register_buffer(f'_{name}_mean', mean, persistent=False)
            self.register_buffer(f'_{name}_std', std, persistent=False)
            self.normalize[name] = (f'_{name}_mean', f'_{name}_std')

    @staticmethod
    def _modalities(samples):
        names = []
        for s in samples:
            for k in modality_names(s):
                if k not in names:
                    names.append(k)
        return names

    def _collate(self, samples):
        batch = {}
        for name in self._modalities(samples):
            ref = next(s for s in samples if name in s)
            dated = doy_key(name) in ref
            length = max(s[name].shape[0] for s in samples if name in s) if dated else 0
            present = []
            keys = [
                k for k in companion_keys(name, ('', MASK, DOY, DATE_MASK)) if k in ref
            ]
            stacks = {k: [] for k in keys}
            for s in samples:
                present.append(name in s)
                for k in keys:
                    if name in s:
                        # Every per-date key has dates first: pad to the longest.
                        t = _pad_to(s[k], length) if dated else s[k]
                    else:
                        shape = (length, *ref[k].shape[1:]) if dated else ref[k].shape
                        t = torch.zeros(shape, dtype=ref[k].dtype)
                    stacks[k].append(t)
            for k, ts in stacks.items():
                shapes = {tuple(t.shape) for t in ts}
                if len(shapes) > 1:
                    raise ValueError(f'cannot batch {k!r}: samples have shapes '
                                     f'{sorted(shapes)}; crop or resample the modality '
                                     'to one size in the pipeline')
                batch[k] = torch.stack(ts)
            if dated and date_mask_key(name) not in ref:
                batch[date_mask_key(name)] = torch.stack([
                    _pad_to(torch.ones(s[name].shape[0], dtype=torch.bool), length)
                    if name in s else torch.zeros(length, dtype=torch.bool)
                    for s in samples
                ])
            batch[present_key(name)] = torch.tensor(present, dtype=torch.bool)
        return batch

    def forward(self, data, training=False):
        samples = data['inputs']
        if isinstance(samples, (list, tuple)) and samples and all(
                _is_dict_of_lists(v) for v in samples):
            # pseudo_collate of multi-view samples: one dict of lists per view.
            inputs = [self._batch(_to_sample_list(v)) for v in samples]
        elif isinstance(samples, (list, tuple)) and samples and isinstance(
                samples[0], (list, tuple)):
            # Multi-view samples: one batch per view.
            n_views = {len(s) for s in samples}
            if len(n_views) > 1:
                raise ValueError(f'cannot batch samples with different numbers of '
                                 f'views {sorted(n_views)}')
            inputs = [
                self._batch([s[v] for s in samples]) for v in range(n_views.pop())
            ]
        else:
            inputs = self._batch(_to_sample_list(samples))
        lonlat = self._lonlat(data.get('data_samples'))
        if lonlat is not None:
            for batch in inputs if isinstance(inputs, list) else [inputs]:
                batch[LONLAT] = lonlat.to(self.device)
        if self.tensor_input is not None:
            if not isinstance(inputs, dict) or self.tensor_input not in inputs:
                raise KeyError(
                    f'MultiModalDataPreprocessor: tensor_input '
                    f'{self.tensor_input!r} is not in the batch (keys: '
                    f'{sorted(inputs) if isinstance(inputs, dict) else "views"})')
            inputs = inputs[self.tensor_input]
        data_samples = data.get('data_samples')
        if self.task is not None and data_samples is not None:
            convert = TASK_SAMPLE_CONVERTERS[self.task]
            shape = self._predict_shape(inputs)
            data_samples = [convert(s, shape=shape) for s in data_samples]
        return dict(inputs=inputs, data_samples=self.cast_data(data_samples))

    def _predict_shape(self, inputs):
        """(H, W) to predict on for samples without a label map (see
        ``predict_grid``)."""
        if torch.is_tensor(inputs):
            return tuple(inputs.shape[-2:])
        batch = inputs[0] if isinstance(inputs, list) else inputs
        name = self.predict_grid or self.tensor_input
        if name is not None:
            if name not in batch:
                raise KeyError(f'MultiModalDataPreprocessor: predict_grid {name!r} is '
                               f'not in the batch (keys: {sorted(batch)})')
            return tuple(batch[name].shape[-2:])
        grids = [
            tuple(v.shape[-2:]) for k, v in batch.items()
            if k in self._modalities([batch]) and torch.is_tensor(v) and v.dim() >= 4
        ]
        return max(grids, key=lambda s: s[0] * s[1]) if grids else None

    @staticmethod
    def _lonlat(data_samples):
        """(B, 2) lon/lat of the samples' ``geo`` (NaN where unknown), or None."""
        if not data_samples:
            return None
        values = []
        for sample in data_samples:
            geo = sample.metainfo.get('geo') if hasattr(sample, 'metainfo') else None
            lon, lat = (geo or {}).get('lon'), (geo or {}).get('lat')
            values.append([
                float('nan') if lon is None else lon,
                float('nan') if lat is None else lat
            ])
        out = torch.tensor(values, dtype=torch.float32)
        return None if torch.isnan(out).all() else out

    def _batch(self, samples):
        if isinstance(samples, dict):  # already batched tensors
            batch = dict(samples)
        else:
            batch = self._collate(list(samples))
        batch = self.cast_data(batch)
        for name, (mean_key, std_key) in self.normalize.items():
            if name not in batch:
                continue
            x = batch[name].float()
            mean, std = getattr(self, mean_key), getattr(self, std_key)
            if x.shape[-3] != mean.numel():
                raise ValueError(f'normalize.{name} has {mean.numel()} bands, the '
                                 f'batch has {x.shape[-3]}')
            shape = (-1, 1, 1)
            batch[name] = (x - mean.view(shape)) / std.view(shape)
        return zero_invalid_pixels(batch)
