"""Change-detection metrics: binary change F1 / IoU and the semantic change score."""
import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from eofm.registry import METRICS

__all__ = [
    'ChangeDetectionMetric', 'SemanticChangeMetric', 'binary_change_scores',
    'semantic_change_score'
]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def binary_change_scores(tp, fp, fn):
    """Precision, recall, F1 and IoU of the change class from pixel counts."""
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    iou = tp / max(tp + fp + fn, 1)
    return dict(precision=precision, recall=recall, f1=f1, iou=iou)


def semantic_change_score(confusion_change, bc_iou):
    """SCS = (BC + SC) / 2 (DynamicEarthNet, Toker et al., CVPR 2022).

    ``confusion_change``: (K, K) confusion of the semantic classes over the pixels
    whose ground truth changed; SC is its mean IoU over classes present in the
    ground truth or the prediction; BC is the IoU of the binary change class.
    """
    cm = confusion_change.astype(np.float64)
    tp = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    valid = union > 0
    sc = float((tp[valid] / union[valid]).mean()) if valid.any() else 0.0
    return dict(bc=bc_iou, sc=sc, scs=(bc_iou + sc) / 2)


@METRICS.register_module()
class ChangeDetectionMetric(BaseMetric):
    """Binary change precision / recall / F1 / IoU over all pixels (LEVIR-CD, OSCD).

    Reads ``gt_change_map`` and ``pred_change_map`` (0/1, (H, W)) of each data sample;
    pixels equal to ``ignore_index`` in the ground truth are skipped.
    """

    default_prefix = 'change'

    def __init__(self, ignore_index=255, **kwargs):
        super().__init__(**kwargs)
        self.ignore_index = ignore_index

    def process(self, data_batch, data_samples):
        for s in data_samples:
            gt = _np(s['gt_change_map'] if isinstance(s, dict) else s.gt_change_map)
            pred = _np(
                s['pred_change_map'] if isinstance(s, dict) else s.pred_change_map)
            keep = gt != self.ignore_index
            g, p = gt[keep] > 0, pred[keep] > 0
            self.results.append((int((g & p).sum()), int(
                (~g & p).sum()), int((g & ~p).sum())))

    def compute_metrics(self, results):
        tp, fp, fn = (sum(r[i] for r in results) for i in range(3))
        return binary_change_scores(tp, fp, fn)


@METRICS.register_module()
class SemanticChangeMetric(BaseMetric):
    """The semantic change segmentation score of DynamicEarthNet.

    Each sample carries the semantic maps of two dates: ``gt_seg_map`` /
    ``pred_seg_map`` of the later date and ``gt_seg_map_prev`` /
    ``pred_seg_map_prev`` of the earlier one. Change is where the two dates' classes
    differ. BC is the IoU of binary change, SC the semantic mIoU over the pixels
    whose ground truth changed, SCS their mean.
    """

    default_prefix = 'semantic_change'

    def __init__(self, num_classes, ignore_index=255, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.ignore_index = num_classes, ignore_index

    def process(self, data_batch, data_samples):
        k = self.num_classes
        for s in data_samples:
            get = (lambda key: _np(s[key])) if isinstance(
                s, dict) else (lambda key: _np(getattr(s, key)))
            gt, gt0 = get('gt_seg_map'), get('gt_seg_map_prev')
            pr, pr0 = get('pred_seg_map'), get('pred_seg_map_prev')
            keep = (gt != self.ignore_index) & (gt0 != self.ignore_index)
            g_change, p_change = (gt != gt0) & keep, (pr != pr0) & keep
            counts = (int(
                (g_change & p_change).sum()), int(
                    (~g_change & p_change
                     & keep).sum()), int((g_change & ~p_change).sum()))
            cm = np.bincount(
                gt[g_change] * k + pr[g_change], minlength=k * k).reshape(k, k)
            self.results.append((counts, cm))

    def compute_metrics(self, results):
        tp, fp, fn = (sum(r[0][i] for r in results) for i in range(3))
        cm = sum(r[1] for r in results)
        bc = binary_change_scores(tp, fp, fn)['iou']
        return semantic_change_score(cm, bc)
