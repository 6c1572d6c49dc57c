"""Multi-label scores that mmpretrain does not compute.

OmniSat (Astruc et al., ECCV 2024, Table 2) and AnySat report the *weighted* F1 of
TreeSatAI(-TS) multi-label classification (scikit-learn's ``average='weighted'``):
the per-class precision, recall and F1 averaged with the classes' supports (number of
positive samples) as weights. mmpretrain's ``MultiLabelMetric`` offers 'macro',
'micro' and per-class scores only; :class:`WeightedMultiLabelMetric` reuses its
thresholding and per-class computation and adds the weighted average.
"""
import torch
from mmpretrain.evaluation import MultiLabelMetric

from eofm.registry import METRICS

__all__ = ['WeightedMultiLabelMetric', 'support_weighted']


def support_weighted(values, support):
    """Average per-class ``values`` (C,) with weights ``support`` (C,)."""
    support = support.double()
    total = support.sum()
    if total == 0:
        return torch.zeros((), dtype=torch.float64)
    return (values.double() * support).sum() / total


@METRICS.register_module()
class WeightedMultiLabelMetric(MultiLabelMetric):
    """Support-weighted multi-label precision / recall / F1 (in %).

    Takes mmpretrain ``MultiLabelMetric``'s arguments except ``average``; reports
    ``precision_weighted``, ``recall_weighted`` and ``f1-score_weighted`` (with the
    threshold / top-k suffix mmpretrain uses when ``thr`` is not 0.5).
    """

    default_prefix = 'multi-label'

    def __init__(self, **kwargs):
        if kwargs.pop('average', None) not in (None, 'weighted'):
            raise ValueError('WeightedMultiLabelMetric: average is always weighted')
        super().__init__(average=None, **kwargs)

    def compute_metrics(self, results):
        target = torch.stack([r['gt_score'] for r in results])
        pred = torch.stack([r['pred_score'] for r in results])
        precision, recall, f1, support = self.calculate(
            pred,
            target,
            pred_indices=False,
            target_indices=False,
            average=None,
            thr=self.thr,
            topk=self.topk)
        if self.thr:
            suffix = '' if self.thr == 0.5 else f'_thr-{self.thr:.2f}'
        else:
            suffix = f'_top{self.topk}'
        scores = {'precision': precision, 'recall': recall, 'f1-score': f1}
        return {
            f'{k}{suffix}_weighted': float(support_weighted(v, support))
            for k, v in scores.items() if k in self.items
        }
