"""Segmentation metrics the SkySense protocols need beyond mmseg's ``IoUMetric``.

* :class:`ClassSubsetIoUMetric`: mmseg's IoU table over a subset of the classes
  (ISPRS Potsdam is scored without 'clutter', SkySense supplementary K).
* :class:`FoldAccuracyMetric`: overall accuracy (and mIoU) per official fold and
  pooled, with the counts written to a file so that the five runs of PASTIS's
  cross-validation (SkySense Table 6, PASTIS-MM OA) combine into one number with
  ``tools/analysis_tools/merge_fold_results.py``.
"""
import json
import os
import os.path as osp

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric

from eofm.registry import METRICS
from eofm.utils.checkpoint import atomic_write_bytes
from .change_detection import sample_meta, seg_maps

__all__ = ['ClassSubsetIoUMetric', 'FoldAccuracyMetric', 'fold_scores']


@METRICS.register_module()
class ClassSubsetIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` with some classes left out of the scores.

    The model still predicts every class (a pixel of another class predicted as
    an excluded one counts as missed); the per-class table, the means (mIoU, mF1,
    ...) and aAcc cover only the kept classes (aAcc over the pixels whose ground
    truth is a kept class).

    Args:
        exclude_classes (Sequence[str]): Names from the dataset's ``classes``.
        **kwargs: ``IoUMetric``'s arguments.
    """

    def __init__(self, exclude_classes=(), **kwargs):
        super().__init__(**kwargs)
        self.exclude_classes = tuple(exclude_classes)

    def compute_metrics(self, results):
        classes = list(self.dataset_meta['classes'])
        unknown = [c for c in self.exclude_classes if c not in classes]
        if unknown:
            raise ValueError(f'ClassSubsetIoUMetric: exclude_classes {unknown} are not '
                             f'classes of the dataset {classes}')
        keep = [i for i, c in enumerate(classes) if c not in self.exclude_classes]
        results = [tuple(area[keep] for area in r) for r in results]
        meta = self._dataset_meta
        self._dataset_meta = dict(meta, classes=[classes[i] for i in keep])
        try:
            return super().compute_metrics(results)
        finally:
            self._dataset_meta = meta


def fold_scores(confusions):
    """OA and mIoU (in %) per fold and pooled from ``{fold: (K, K) confusion}``
    (rows ground truth, columns prediction)."""
    out = {}
    total = None
    for fold in sorted(confusions, key=str):
        cm = np.asarray(confusions[fold], dtype=np.float64)
        total = cm if total is None else total + cm
        out[f'fold{fold}/OA'] = 100 * float(np.trace(cm) / max(cm.sum(), 1))
    if total is None:
        raise ValueError('no fold to score')
    tp = np.diag(total)
    union = total.sum(0) + total.sum(1) - tp
    present = total.sum(1) > 0
    out['OA'] = 100 * float(tp.sum() / max(total.sum(), 1))
    out['mIoU'] = 100 * float(
        (tp[present] / union[present]).mean()) if present.any() else 0.
    per_fold = [v for k, v in out.items() if k.startswith('fold')]
    out['mean_fold_OA'] = float(np.mean(per_fold))
    return out


@METRICS.register_module()
class FoldAccuracyMetric(BaseMetric):
    """Pixel overall accuracy per cross-validation fold and over all folds.

    Reads the class maps of each sample (mmseg ``gt_sem_seg`` / ``pred_sem_seg`` or
    ``gt_seg_map`` / ``pred_seg_map``) and its fold from the metainfo key
    ``fold_key`` (PASTIS: ``fold``, packed with ``meta_keys``). Reports ``OA`` and
    ``mIoU`` (in %) pooled over the samples seen and ``fold{k}/OA`` for each fold.

    Args:
        num_classes (int): Classes 0..num_classes-1 (others, e.g. PASTIS's void
            19, are ignored).
        fold_key (str): Metainfo key of the fold.
        out_file (str, optional): JSON file for the per-fold confusion matrices
            (written atomically); ``merge_fold_results.py`` pools several runs. A
            relative path is placed in the run's log folder
            (``work_dir/<timestamp>/``) when a runner is logging.
    """

    default_prefix = 'fold'

    def __init__(self, num_classes, fold_key='fold', out_file=None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.fold_key, self.out_file = num_classes, fold_key, out_file

    def process(self, data_batch, data_samples):
        k = self.num_classes
        for s in data_samples:
            meta = sample_meta(s)
            if self.fold_key not in meta:
                raise KeyError(
                    f'FoldAccuracyMetric: the sample has no {self.fold_key!r} '
                    f"in its metainfo; add it to PackMultiModalInputs' "
                    f'meta_keys')
            gt, pred = seg_maps(s)
            valid = (gt >= 0) & (gt < k)
            cm = np.bincount(
                gt[valid].astype(np.int64) * k + pred[valid].astype(np.int64),
                minlength=k * k).reshape(k, k)
            self.results.append((int(meta[self.fold_key]), cm))

    def compute_metrics(self, results):
        confusions = {}
        for fold, cm in results:
            confusions[fold] = confusions.get(fold, 0) + cm
        if self.out_file:
            out_file = self.out_file
            log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
            if not osp.isabs(out_file) and log_file:
                out_file = osp.join(osp.dirname(log_file), out_file)
            os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
            payload = dict(
                num_classes=self.num_classes,
                confusions={
                    str(f): cm.tolist()
                    for f, cm in confusions.items()
                })
            atomic_write_bytes(json.dumps(payload).encode(), out_file)
            print_log(f'per-fold confusion matrices written to {out_file}')
        return fold_scores(confusions)
