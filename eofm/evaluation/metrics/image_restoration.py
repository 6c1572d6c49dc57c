"""Image-to-image metrics: cloud removal (SEN12MS-CR) and pan-sharpening (SpaceNet).

msGFM (Han et al., CVPR 2024) Table 3 scores SEN12MS-CR cloud removal with MAE, SAM,
SSIM and PSNR and SpaceNet-2 pan-sharpening with PSNR and SSIM. Each score is computed
per image and averaged over the images (as the SEN12MS-CR baselines do):

* MAE: mean absolute error over pixels and bands;
* SAM: mean spectral angle between predicted and true band vectors, in degrees;
* PSNR: ``10 log10(data_range^2 / MSE)``;
* SSIM: Wang et al. 2004 with an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01,
  K2 = 0.03, averaged over bands (as ``skimage.metrics.structural_similarity`` with
  ``gaussian_weights=True``, written here because the stack has no SSIM).
"""
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from eofm.registry import METRICS
from .change_detection import sample_field

__all__ = ['ImageRestorationMetric', 'psnr', 'ssim', 'spectral_angle']

ALL_METRICS = ('mae', 'sam', 'ssim', 'psnr')


def psnr(pred, target, data_range=1.0):
    """PSNR in dB of one (C, H, W) image."""
    mse = torch.mean((pred.double() - target.double())**2)
    if mse == 0:
        return float('inf')
    return float(10 * torch.log10(data_range**2 / mse))


def spectral_angle(pred, target, eps=1e-12):
    """Mean spectral angle (degrees) between the (C,) vectors of each pixel."""
    p, t = pred.double().flatten(1), target.double().flatten(1)
    cos = (p * t).sum(0) / (p.norm(dim=0) * t.norm(dim=0)).clamp_min(eps)
    return float(torch.rad2deg(torch.arccos(cos.clamp(-1, 1))).mean())


def _gaussian_window(size=11, sigma=1.5):
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(pred, target, data_range=1.0, win_size=11, sigma=1.5):
    """Mean SSIM of one (C, H, W) image (bands averaged); valid-window statistics
    with the sample covariance as scikit-image."""
    c = pred.shape[0]
    if min(pred.shape[-2:]) < win_size:
        raise ValueError(f'ssim: images of {tuple(pred.shape[-2:])} px are smaller '
                         f'than the {win_size} px window')
    x, y = pred.double()[:, None], target.double()[:, None]
    w = _gaussian_window(win_size, sigma).to(x.device)[None, None]
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    npx = win_size * win_size
    cov_norm = npx / (npx - 1)
    vx = cov_norm * (F.conv2d(x * x, w) - mu_x**2)
    vy = cov_norm * (F.conv2d(y * y, w) - mu_y**2)
    vxy = cov_norm * (F.conv2d(x * y, w) - mu_x * mu_y)
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    s = ((2 * mu_x * mu_y + c1) * (2 * vxy + c2)) / ((mu_x**2 + mu_y**2 + c1) *
                                                     (vx + vy + c2))
    return float(s.view(c, -1).mean(1).mean())


@METRICS.register_module()
class ImageRestorationMetric(BaseMetric):
    """MAE, SAM, SSIM and PSNR of predicted images against the targets.

    Reads ``pred_image`` and ``gt_image`` ((C, H, W) tensors, the same scale) of each
    data sample. ``data_range`` is the targets' value range (1.0 for reflectances in
    [0, 1]); predictions are clipped to [0, data_range] first when ``clip`` is set.

    Args:
        metrics (Sequence[str]): Any of 'mae', 'sam', 'ssim', 'psnr'.
        data_range (float): Value range for PSNR / SSIM.
        clip (bool): Clip predictions to [0, data_range].
    """

    default_prefix = 'restoration'

    def __init__(self, metrics=ALL_METRICS, data_range=1.0, clip=True, **kwargs):
        super().__init__(**kwargs)
        unknown = [m for m in metrics if m not in ALL_METRICS]
        if unknown:
            raise ValueError(f'ImageRestorationMetric: unknown metrics {unknown}; '
                             f'choose from {ALL_METRICS}')
        self.metrics, self.data_range, self.clip = tuple(metrics), data_range, clip

    def process(self, data_batch, data_samples):
        for s in data_samples:
            pred = sample_field(s, 'pred_image', required=False)
            gt = sample_field(s, 'gt_image', required=False)
            if pred is None or gt is None:
                raise KeyError('ImageRestorationMetric needs pred_image and gt_image '
                               'in every data sample')
            pred, gt = torch.as_tensor(pred).cpu(), torch.as_tensor(gt).cpu()
            if pred.shape != gt.shape or pred.dim() != 3:
                raise ValueError(f'ImageRestorationMetric: pred_image '
                                 f'{tuple(pred.shape)} and gt_image {tuple(gt.shape)} '
                                 f'must both be (C, H, W)')
            if self.clip:
                pred = pred.clamp(0, self.data_range)
            scores = {}
            if 'mae' in self.metrics:
                scores['mae'] = float((pred.double() - gt.double()).abs().mean())
            if 'sam' in self.metrics:
                scores['sam'] = spectral_angle(pred, gt)
            if 'ssim' in self.metrics:
                scores['ssim'] = ssim(pred, gt, self.data_range)
            if 'psnr' in self.metrics:
                scores['psnr'] = psnr(pred, gt, self.data_range)
            self.results.append(scores)

    def compute_metrics(self, results):
        return {m: float(np.mean([r[m] for r in results])) for m in self.metrics}
