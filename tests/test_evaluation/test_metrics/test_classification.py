"""Support-weighted multi-label F1 (OmniSat Table 2's metric) against hand values."""
import pytest
import torch

from eofm.registry import METRICS


def test_weighted_f1_by_hand():
    metric = METRICS.build(dict(type='eofm.WeightedMultiLabelMetric'))
    # 4 samples, 2 classes; class 0 has 3 positives, class 1 has 1
    gt = torch.tensor([[1, 0], [1, 0], [1, 1], [0, 0]], dtype=torch.float32)
    pred = torch.tensor([[0.9, 0.1], [0.2, 0.1], [0.8, 0.2], [0.1, 0.7]])
    metric.process(None, [dict(gt_score=g, pred_score=p) for g, p in zip(gt, pred)])
    out = metric.evaluate(4)
    # class 0: tp 2, fp 0, fn 1 -> P 100, R 66.7, F1 80; class 1: tp 0 -> F1 0
    assert out['multi-label/precision_weighted'] == pytest.approx(75.0)
    assert out['multi-label/recall_weighted'] == pytest.approx(50.0)
    assert out['multi-label/f1-score_weighted'] == pytest.approx(60.0)
    with pytest.raises(ValueError, match='weighted'):
        METRICS.build(dict(type='eofm.WeightedMultiLabelMetric', average='macro'))
