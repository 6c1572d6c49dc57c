"""Change-detection metrics: binary change F1 / IoU and the semantic change score."""
import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from eofm.registry import METRICS

__all__ = [
    'ChangeDetectionMetric', 'SemanticChangeMetric', 'binary_change_scores',
    'semantic_change_score', 'seg_maps', 'sample_meta', 'sample_field'
]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def sample_field(sample, key, required=True):
    """Field ``key`` of a data sample (an object, or the dict evaluators get); None
    when absent and not ``required``, else a KeyError naming the field."""
    value = sample.get(key) if isinstance(sample, dict) else getattr(sample, key, None)
    if value is None and required:
        raise KeyError(f'the data sample has no {key!r}')
    return value


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
            gt = _np(sample_field(s, 'gt_change_map'))
            pred = _np(sample_field(s, 'pred_change_map'))
            keep = gt != self.ignore_index
            g, p = gt[keep] > 0, pred[keep] > 0
            self.results.append((int((g & p).sum()), int(
                (~g & p).sum()), int((g & ~p).sum())))

    def compute_metrics(self, results):
        tp, fp, fn = (sum(r[i] for r in results) for i in range(3))
        return binary_change_scores(tp, fp, fn)


def seg_maps(sample):
    """(ground truth, prediction) class maps (H, W) of a segmentation data sample:
    mmseg's ``gt_sem_seg`` / ``pred_sem_seg`` or eofm's ``gt_seg_map`` /
    ``pred_seg_map`` (data samples as objects or as the dicts evaluators get)."""

    def get(key):
        return sample_field(sample, key, required=False)

    gt, pred = get('gt_sem_seg'), get('pred_sem_seg')
    if gt is not None and pred is not None:
        gt, pred = sample_field(gt, 'data'), sample_field(pred, 'data')
    else:
        gt, pred = get('gt_seg_map'), get('pred_seg_map')
    if gt is None or pred is None:
        raise KeyError('the data sample has no gt_sem_seg / pred_sem_seg (mmseg) or '
                       'gt_seg_map / pred_seg_map')
    return _np(gt).squeeze(), _np(pred).squeeze()


def sample_meta(sample):
    """The metainfo of a data sample (an object, or the dict evaluators get)."""
    return sample.get('metainfo', sample) if isinstance(sample, dict) else \
        sample.metainfo


@METRICS.register_module()
class SemanticChangeMetric(BaseMetric):
    """The semantic change segmentation score (SCS) of DynamicEarthNet.

    SkySense supplementary K (Dyna.-S2 change detection, Table 5 "SCS"):
    change is where a pixel's class differs between two dates; BC is the IoU of
    binary change, SC the semantic mIoU over the pixels whose ground truth changed,
    SCS = (BC + SC) / 2 (Toker et al., CVPR 2022).

    Two ways to give the pairs of dates:

    * ``series=False``: each sample carries both dates: ``gt_seg_map`` /
      ``pred_seg_map`` of the later date and ``gt_seg_map_prev`` /
      ``pred_seg_map_prev`` of the earlier one.
    * ``series=True``: samples are single-date segmentations (a segmentor's test
      outputs, mmseg's ``gt_sem_seg`` / ``pred_sem_seg`` or eofm's maps) whose
      ``sample_id`` is ``<series>_<time>`` (DynamicEarthNet: ``<area>_YYYY-MM``);
      after all samples are in, each series is ordered by time and consecutive
      dates are compared. The class maps are kept as uint8 until then (1 MiB per
      1024 x 1024 month and map).
    """

    default_prefix = 'semantic_change'

    def __init__(self, num_classes, ignore_index=255, series=False, **kwargs):
        super().__init__(**kwargs)
        if num_classes > 255:
            raise ValueError('SemanticChangeMetric: at most 255 classes')
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.series = series

    def _pair(self, gt0, gt, pr0, pr):
        """(tp, fp, fn) of binary change and the (K, K) confusion on changed pixels."""
        k = self.num_classes
        keep = (gt != self.ignore_index) & (gt0 != self.ignore_index)
        g_change, p_change = (gt != gt0) & keep, (pr != pr0) & keep
        counts = (int((g_change & p_change).sum()), int(
            (~g_change & p_change).sum()), int((g_change & ~p_change).sum()))
        cm = np.bincount(
            gt[g_change].astype(np.int64) * k + pr[g_change].astype(np.int64),
            minlength=k * k).reshape(k, k)
        return counts, cm

    def process(self, data_batch, data_samples):
        for s in data_samples:
            if self.series:
                sid = str(sample_meta(s).get('sample_id', ''))
                if '_' not in sid:
                    raise ValueError(f'SemanticChangeMetric(series=True): sample_id '
                                     f'must be "<series>_<time>", got {sid!r}')
                gt, pr = seg_maps(s)
                key, time = sid.rsplit('_', 1)
                self.results.append(
                    (key, time, gt.astype(np.uint8), pr.astype(np.uint8)))
                continue
            gt0, gt, pr0, pr = (
                _np(sample_field(s, k)) for k in ('gt_seg_map_prev', 'gt_seg_map',
                                                  'pred_seg_map_prev', 'pred_seg_map'))
            self.results.append(self._pair(gt0, gt, pr0, pr))

    def _series_pairs(self, results):
        by_series = {}
        for key, time, gt, pr in results:
            by_series.setdefault(key, []).append((time, gt, pr))
        pairs = []
        for items in by_series.values():
            items.sort(key=lambda x: x[0])
            for (_, gt0, pr0), (_, gt, pr) in zip(items[:-1], items[1:]):
                pairs.append(self._pair(gt0, gt, pr0, pr))
        return pairs

    def compute_metrics(self, results):
        if self.series:
            results = self._series_pairs(results)
        if not results:
            raise ValueError('SemanticChangeMetric: no pair of dates to compare (a '
                             'series needs two or more dates)')
        tp, fp, fn = (sum(r[0][i] for r in results) for i in range(3))
        cm = sum(r[1] for r in results)
        bc = binary_change_scores(tp, fp, fn)['iou']
        return semantic_change_score(cm, bc)
