"""Temporal transforms of dated modalities (Sentinel-2 / Sentinel-1 series)."""
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS

__all__ = ['DateJitter', 'TemporalSample']


@TRANSFORMS.register_module()
class TemporalSample(BaseTransform):
    """Sample each dated modality to a fixed number of dates, padding short series.

    SkySense draws 20 Sentinel-2 and 10 Sentinel-1 dates per sample (paper Sec. 4.1):
    ``TemporalSample(lengths=dict(s2=20, s1=10))``. Selected dates keep their
    chronological order. A series shorter than its length is padded at the end with
    zeros, day-of-year 0 and ``results[m + '_date_mask']`` False, so that models mask
    padded dates out of attention.

    Args:
        lengths (dict): Modality name -> number of dates.
        mode (str): 'random' (uniform without replacement; training) or 'even'
            (evenly spaced; evaluation).
    """

    def __init__(self, lengths, mode='random'):
        if mode not in ('random', 'even'):
            raise ValueError(f"TemporalSample: mode must be 'random' or 'even', got "
                             f'{mode!r}')
        for name, n in lengths.items():
            if not isinstance(n, int) or n < 1:
                raise ValueError(f'TemporalSample: lengths.{name} must be a positive '
                                 f'int, got {n!r}')
        self.lengths = dict(lengths)
        self.mode = mode

    def _indices(self, n, length):
        if n <= length:
            return np.arange(n)
        if self.mode == 'even':
            return np.round(np.linspace(0, n - 1, length)).astype(np.int64)
        return np.sort(np.random.choice(n, length, replace=False))

    def transform(self, results):
        for name, length in self.lengths.items():
            if name not in results:
                continue
            if name + '_doy' not in results:
                raise KeyError(f'TemporalSample: modality {name!r} has no dates '
                               f'({name}_doy); is it a dated modality?')
            n = results[name].shape[0]
            idx = self._indices(n, length)
            pad = length - len(idx)
            keys = [name, name + '_mask', name + '_doy']
            for key in keys:
                arr = results[key][idx]
                if pad:
                    arr = np.concatenate(
                        [arr, np.zeros((pad, *arr.shape[1:]), dtype=arr.dtype)], axis=0)
                results[key] = arr
            if name + '_dates' in results:
                dates = [results[name + '_dates'][i] for i in idx]
                results[name + '_dates'] = dates + [''] * pad
            date_mask = np.zeros(length, dtype=bool)
            date_mask[:len(idx)] = True
            results[name + '_date_mask'] = date_mask
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(lengths={self.lengths}, mode={self.mode!r})'


@TRANSFORMS.register_module()
class DateJitter(BaseTransform):
    """Randomly disturb the acquisition dates of dated modalities.

    SkySense pretraining applies "random disturbances on the RSI acquisition date"
    (paper Sec. 4.1): each real date's day of year moves by an integer drawn uniformly
    from ``[-max_shift, max_shift]`` and wraps around the year (1..365; day 366 maps
    to 365 first). Padded dates (day 0, ``m_date_mask`` False) are left alone.

    Args:
        modalities (Sequence[str]): Dated modalities to disturb.
        max_shift (int): Largest shift in days. Defaults to 5.
        prob (float): Probability of disturbing a sample. Defaults to 1.0.
    """

    def __init__(self, modalities, max_shift=5, prob=1.0):
        if max_shift < 0 or not 0 <= prob <= 1:
            raise ValueError('DateJitter: max_shift must be >= 0 and prob in [0, 1]')
        self.modalities = tuple(modalities)
        self.max_shift = int(max_shift)
        self.prob = prob

    def transform(self, results):
        if np.random.rand() >= self.prob:
            return results
        for name in self.modalities:
            key = name + '_doy'
            if key not in results:
                continue
            doy = results[key].astype(np.int64)
            real = doy > 0
            shift = np.random.randint(-self.max_shift, self.max_shift + 1, doy.shape)
            moved = (np.minimum(doy, 365) - 1 + shift) % 365 + 1
            results[key] = np.where(real, moved, 0)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(modalities={self.modalities}, '
                f'max_shift={self.max_shift}, prob={self.prob})')
