"""Change-detection metrics against hand-computed values."""
import numpy as np
import pytest

from eofm.registry import METRICS


def test_binary_change_f1_iou():
    metric = METRICS.build(dict(type='eofm.ChangeDetectionMetric'))
    gt = np.array([[1, 1, 0, 0], [0, 0, 0, 255]])
    pred = np.array([[1, 0, 1, 0], [0, 0, 0, 1]])
    metric.process(None, [dict(gt_change_map=gt, pred_change_map=pred)])
    out = metric.evaluate(1)
    # tp = 1, fp = 1 (the 255 pixel is ignored), fn = 1
    assert out['change/precision'] == pytest.approx(0.5)
    assert out['change/recall'] == pytest.approx(0.5)
    assert out['change/f1'] == pytest.approx(0.5)
    assert out['change/iou'] == pytest.approx(1 / 3)


def test_semantic_change_score():
    metric = METRICS.build(dict(type='eofm.SemanticChangeMetric', num_classes=3))
    gt0 = np.array([0, 0, 1, 1, 2, 2])
    gt = np.array([0, 1, 1, 2, 2, 0])  # changed at 1, 3, 5
    pr0 = np.array([0, 0, 1, 1, 2, 2])
    pr = np.array([0, 1, 1, 1, 2, 1])  # changed at 1, 5
    metric.process(None, [
        dict(
            gt_seg_map=gt, gt_seg_map_prev=gt0, pred_seg_map=pr, pred_seg_map_prev=pr0)
    ])
    out = metric.evaluate(1)
    # Binary change: tp = 2 (1, 5), fp = 0, fn = 1 (3): IoU 2/3.
    assert out['semantic_change/bc'] == pytest.approx(2 / 3)
    # On changed pixels (1, 3, 5): gt [1, 2, 0], pred [1, 1, 1]
    # IoU: class 0: 0/1, class 1: 1/3, class 2: 0/1 -> SC = 1/9.
    assert out['semantic_change/sc'] == pytest.approx(1 / 9)
    assert out['semantic_change/scs'] == pytest.approx((2 / 3 + 1 / 9) / 2)
