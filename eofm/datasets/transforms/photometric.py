"""Photometric augmentations of the high-resolution optical image.

SkySense augments its HR views with Gaussian blur, solarization and colour jitter
(paper Sec. 4.1, after BYOL). mmpretrain's ``ColorJitter``, ``GaussianBlur`` and
``Solarize`` expect one 3-channel uint8 HWC ``img``; eofm's HR image is a float
(C, H, W) array scaled to [0, 1] that may carry a NIR band and a validity mask, so
these transforms are written for that layout. Colour operations use the first three
bands as RGB (``rgb``) and leave other bands alone; invalid pixels stay 0.
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures.batch_schema import mask_key
from .arguments import check_number, check_probability, check_range

__all__ = ['RandomColorJitter', 'RandomGaussianBlur', 'RandomSolarize']


class _HRTransform(BaseTransform):

    def __init__(self, key, prob):
        check_probability(type(self).__name__, prob)
        self.key, self.prob = key, prob

    def _apply(self, x):
        raise NotImplementedError

    def transform(self, results):
        if self.key not in results or np.random.rand() >= self.prob:
            return results
        x = results[self.key]
        if x.ndim != 3:
            raise ValueError(f'{type(self).__name__}: {self.key!r} must be a static '
                             f'(C, H, W) image, got shape {x.shape}')
        x = self._apply(x.astype(np.float32))
        mask = results.get(mask_key(self.key))
        if mask is not None:
            x = x * mask[None]
        results[self.key] = x.astype(np.float32)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(key={self.key!r}, prob={self.prob})'


@TRANSFORMS.register_module()
class RandomColorJitter(_HRTransform):
    """Brightness, contrast and saturation jitter of the RGB bands, random order.

    Factors are drawn uniformly from ``[1 - s, 1 + s]`` for each strength ``s``;
    results are clipped to [0, 1] (the image must be scaled to [0, 1]).

    Args:
        key (str): The HR modality. Defaults to 'hr'.
        brightness, contrast, saturation (float): Strengths.
        prob (float): Probability of applying. Defaults to 0.8.
        rgb (tuple): Indices of the R, G, B bands.
    """

    def __init__(self,
                 key='hr',
                 brightness=0.4,
                 contrast=0.4,
                 saturation=0.2,
                 prob=0.8,
                 rgb=(0, 1, 2)):
        super().__init__(key, prob)
        for name, v in (('brightness', brightness), ('contrast', contrast),
                        ('saturation', saturation)):
            check_number(type(self).__name__, name, v, 0)
        self.strengths = dict(
            brightness=brightness, contrast=contrast, saturation=saturation)
        self.rgb = list(rgb)

    def _apply(self, x):
        rgb = x[self.rgb]
        for op in np.random.permutation(list(self.strengths)):
            s = self.strengths[op]
            if s <= 0:
                continue
            f = np.random.uniform(max(0.0, 1 - s), 1 + s)
            gray = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
            if op == 'brightness':
                rgb = rgb * f
            elif op == 'contrast':
                rgb = (rgb - gray.mean()) * f + gray.mean()
            else:
                rgb = (rgb - gray[None]) * f + gray[None]
            rgb = np.clip(rgb, 0.0, 1.0)
        x = x.copy()
        x[self.rgb] = rgb
        return x


@TRANSFORMS.register_module()
class RandomGaussianBlur(_HRTransform):
    """Gaussian blur of every band with sigma uniform in ``sigma``.

    Args:
        key (str): The HR modality.
        sigma (tuple): Range of the standard deviation in pixels.
        prob (float): Probability of applying.
    """

    def __init__(self, key='hr', sigma=(0.1, 2.0), prob=0.5):
        super().__init__(key, prob)
        self.sigma = check_range(type(self).__name__, 'sigma', sigma, 0, low_open=True)

    def _apply(self, x):
        s = np.random.uniform(*self.sigma)
        return np.stack([cv2.GaussianBlur(b, (0, 0), s) for b in x])


@TRANSFORMS.register_module()
class RandomSolarize(_HRTransform):
    """Invert values at or above ``threshold`` (images scaled to [0, 1]).

    Args:
        key (str): The HR modality.
        threshold (float): Solarization threshold.
        prob (float): Probability of applying.
    """

    def __init__(self, key='hr', threshold=0.5, prob=0.2):
        super().__init__(key, prob)
        self.threshold = threshold

    def _apply(self, x):
        return np.where(x >= self.threshold, 1.0 - x, x)
