"""Temporal transforms of dated modalities (Sentinel-2 / Sentinel-1 series)."""
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS

__all__ = ['TemporalSample']


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
