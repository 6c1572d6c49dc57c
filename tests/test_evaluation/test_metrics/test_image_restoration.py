"""Cloud-removal / pan-sharpening metrics against hand-computed values."""
import math

import pytest
import torch

from eofm.evaluation.metrics import psnr, spectral_angle, ssim
from eofm.registry import METRICS


def test_psnr_mae_sam_by_hand():
    gt = torch.zeros(2, 4, 4)
    pred = torch.full((2, 4, 4), 0.1)
    # MSE 0.01 -> PSNR 20 dB for range 1
    assert psnr(pred, gt) == pytest.approx(20.0)
    assert psnr(gt, gt) == math.inf
    # band vectors (1, 0) vs (1, 1): 45 degrees everywhere
    a = torch.stack([torch.ones(3, 3), torch.zeros(3, 3)])
    b = torch.ones(2, 3, 3)
    assert spectral_angle(a, b) == pytest.approx(45.0)
    assert spectral_angle(b, 2 * b) == pytest.approx(0.0, abs=1e-4)
    metric = METRICS.build(
        dict(type='eofm.ImageRestorationMetric', metrics=['mae', 'psnr', 'sam']))
    metric.process(None, [dict(pred_image=pred, gt_image=gt + 0.3)])
    out = metric.evaluate(1)
    assert out['restoration/mae'] == pytest.approx(0.2)
    assert out['restoration/psnr'] == pytest.approx(10 * math.log10(1 / 0.04))


def test_ssim_identity_constant_and_symmetry():
    torch.manual_seed(0)
    x = torch.rand(3, 24, 24)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert ssim(x, x) == pytest.approx(1.0)
    assert ssim(x, y) == pytest.approx(ssim(y, x))
    assert 0 < ssim(x, y) < 1
    # two constant images c1, c2: SSIM = (2 c1 c2 + C1) / (c1^2 + c2^2 + C1)
    c1, c2, k1 = 0.2, 0.6, (0.01)**2
    expected = (2 * c1 * c2 + k1) / (c1**2 + c2**2 + k1)
    assert ssim(torch.full((1, 16, 16), c1), torch.full((1, 16, 16),
                                                        c2)) == pytest.approx(expected)
    with pytest.raises(ValueError, match='smaller'):
        ssim(torch.rand(1, 8, 8), torch.rand(1, 8, 8))


def test_metric_errors():
    with pytest.raises(ValueError, match='unknown metrics'):
        METRICS.build(dict(type='eofm.ImageRestorationMetric', metrics=['lpips']))
    metric = METRICS.build(dict(type='eofm.ImageRestorationMetric'))
    with pytest.raises(ValueError, match=r'\(C, H, W\)'):
        metric.process(
            None,
            [dict(pred_image=torch.rand(2, 12, 12), gt_image=torch.rand(3, 12, 12))])
    with pytest.raises(KeyError, match='pred_image'):
        metric.process(None, [dict(gt_image=torch.rand(2, 12, 12))])
