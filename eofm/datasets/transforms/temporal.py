"""Temporal transforms of dated modalities (Sentinel-2 / Sentinel-1 series)."""
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures.batch_schema import (DATED_ARRAY_SUFFIXES, date_mask_key, dates_key,
                                          doy_key, mask_key)
from .arguments import check_number, check_probability

__all__ = [
    'DateJitter', 'FilterCloudyDates', 'RenameModality', 'SCL_CLOUD_CLASSES',
    'TemporalSample'
]


def take_dates(results, name, idx, pad=0):
    """Keep the dates ``idx`` (in that order) of every per-date entry of modality
    ``name`` (pixels, masks, days of year, ISO dates, cloud fractions), then append
    ``pad`` empty dates (zeros, day 0, date '')."""
    for suffix in DATED_ARRAY_SUFFIXES:
        key = name + suffix
        if key in results:
            arr = results[key][idx]
            if pad:
                arr = np.concatenate(
                    [arr, np.zeros((pad, *arr.shape[1:]), dtype=arr.dtype)], axis=0)
            results[key] = arr
    if name + '_dates' in results:
        results[dates_key(name)] = [results[dates_key(name)][i]
                                    for i in idx] + [''] * pad


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
            if doy_key(name) not in results:
                raise KeyError(f'TemporalSample: modality {name!r} has no dates '
                               f'({name}_doy); is it a dated modality?')
            n = results[name].shape[0]
            idx = self._indices(n, length)
            take_dates(results, name, idx, pad=length - len(idx))
            date_mask = np.zeros(length, dtype=bool)
            date_mask[:len(idx)] = True
            results[date_mask_key(name)] = date_mask
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
        check_number('DateJitter', 'max_shift', max_shift, 0, 182, integer=True)
        check_probability('DateJitter', prob)
        self.modalities = tuple(modalities)
        self.max_shift = int(max_shift)
        self.prob = prob

    def transform(self, results):
        if np.random.rand() >= self.prob:
            return results
        for name in self.modalities:
            key = doy_key(name)
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


# Scene classification (SCL) classes of Sentinel-2 L2A counted as cloud: 3 cloud
# shadows, 8 cloud medium probability, 9 cloud high probability, 10 thin cirrus.
SCL_CLOUD_CLASSES = (3, 8, 9, 10)


@TRANSFORMS.register_module()
class FilterCloudyDates(BaseTransform):
    """Drop the dates of a series whose cloud fraction exceeds a threshold.

    The cloud information is a second dated modality on the same dates (loaded by
    :class:`LoadMultiModalTiles` with ``resample='nearest'``), e.g. the L2A scene
    classification band ``s2_scl=dict(bands=['SCL'], resample='nearest')`` or a
    cloud mask / probability layer. Run it before :class:`TemporalSample`. The
    cloud modality is removed afterwards; ``results[m + '_cloud_fraction']`` keeps
    the fractions of the kept dates.

    Args:
        modality (str): The series to filter. Defaults to 's2'.
        cloud_key (str): The loaded cloud modality. Defaults to 's2_scl'.
        kind (str): 'scl' (pixels in ``scl_classes`` are cloudy) or 'mask' (pixels
            with a value above ``mask_threshold`` are cloudy).
        max_cloud_fraction (float): Dates above this fraction of cloudy valid
            pixels are dropped.
        min_dates (int): Keep at least this many dates (the least cloudy ones).
        scl_classes (Sequence[int]): SCL classes counted as cloud.
        mask_threshold (float): Cloud threshold of a mask/probability layer.
    """

    def __init__(self,
                 modality='s2',
                 cloud_key='s2_scl',
                 kind='scl',
                 max_cloud_fraction=0.5,
                 min_dates=1,
                 scl_classes=SCL_CLOUD_CLASSES,
                 mask_threshold=0.5):
        if kind not in ('scl', 'mask'):
            raise ValueError(f"FilterCloudyDates: kind must be 'scl' or 'mask', got "
                             f'{kind!r}')
        check_number('FilterCloudyDates', 'max_cloud_fraction', max_cloud_fraction, 0, 1)
        check_number('FilterCloudyDates', 'min_dates', min_dates, 1, integer=True)
        check_number('FilterCloudyDates', 'mask_threshold', mask_threshold, 0, 1)
        self.modality, self.cloud_key, self.kind = modality, cloud_key, kind
        self.max_cloud_fraction = max_cloud_fraction
        self.min_dates = min_dates
        self.scl_classes = tuple(scl_classes)
        self.mask_threshold = mask_threshold

    def _fractions(self, results):
        m = self.modality
        cloud = results[self.cloud_key]
        if cloud.ndim == 4:
            cloud = cloud[:, 0]
        if cloud.shape[0] != results[m].shape[0]:
            raise ValueError(f'FilterCloudyDates: {self.cloud_key!r} has '
                             f'{cloud.shape[0]} dates, {m!r} has {results[m].shape[0]}')
        if cloud.shape[-2:] != results[m].shape[-2:]:
            raise ValueError(f'FilterCloudyDates: {self.cloud_key!r} must be on the '
                             f'grid of {m!r} (load it with the same gsd/size)')
        if self.kind == 'scl':
            cloudy = np.isin(np.rint(cloud).astype(np.int64), self.scl_classes)
        else:
            cloudy = cloud > self.mask_threshold
        valid = results.get(m + '_mask', np.ones(cloudy.shape, dtype=bool))
        n_valid = np.maximum(valid.sum(axis=(1, 2)), 1)
        return (cloudy & valid).sum(axis=(1, 2)) / n_valid

    def transform(self, results):
        m = self.modality
        if m not in results:
            return results
        if self.cloud_key not in results:
            raise KeyError(f'FilterCloudyDates: cloud layer {self.cloud_key!r} is not '
                           f'loaded (add it to LoadMultiModalTiles.modalities)')
        frac = self._fractions(results)
        keep = np.nonzero(frac <= self.max_cloud_fraction)[0]
        if len(keep) < min(self.min_dates, len(frac)):
            keep = np.sort(np.argsort(frac, kind='stable')[:self.min_dates])
        results[m + '_cloud_fraction'] = frac.astype(np.float32)
        take_dates(results, m, keep)
        for suffix in ('', '_mask', '_doy', '_dates'):
            results.pop(self.cloud_key + suffix, None)
        if self.cloud_key in results.get('modalities_present', []):
            results['modalities_present'] = [
                p for p in results['modalities_present'] if p != self.cloud_key
            ]
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(modality={self.modality!r}, '
                f'cloud_key={self.cloud_key!r}, kind={self.kind!r}, '
                f'max_cloud_fraction={self.max_cloud_fraction})')


@TRANSFORMS.register_module()
class RenameModality(BaseTransform):
    """Give a loaded modality the name a model expects, optionally as one static image.

    Datasets name modalities after their sensors (``planet``, ``s1_asc``); SkySense's
    encoders are ``hr``, ``s2`` and ``s1``. Every per-modality entry of ``src`` (the
    pixels and ``_mask``, ``_doy``, ``_date_mask``, ``_cloud_fraction``,
    ``_dates``) moves to ``dst``. With ``date`` (an index into the series, e.g. 0 or
    -1), a dated modality becomes a static (C, H, W) image of that date (e.g. one
    Planet Fusion image as SkySense's HR input); its date stays in ``{dst}_dates``.

    Args:
        src (str): Loaded modality name.
        dst (str): New name (may equal ``src`` to only take one date).
        date (int, optional): Keep only this date of a series, as a static image.
    """

    def __init__(self, src, dst, date=None):
        self.src, self.dst, self.date = src, dst, date

    def transform(self, results):
        if self.src not in results:
            raise KeyError(f'RenameModality: modality {self.src!r} is not in the '
                           f'sample (sample {results.get("sample_id")}; present: '
                           f'{results.get("modalities_present")})')
        if self.dst != self.src and self.dst in results:
            raise KeyError(f'RenameModality: the sample already has {self.dst!r}')
        if self.date is not None:
            if np.ndim(results[self.src]) != 4:
                raise ValueError(f'RenameModality: date={self.date} needs a dated '
                                 f'(T, C, H, W) {self.src!r}, got shape '
                                 f'{np.shape(results[self.src])}')
            n = len(results[self.src])
            if not -n <= self.date < n:
                raise IndexError(f'RenameModality: date {self.date} of {self.src!r} '
                                 f'with {n} dates (sample {results.get("sample_id")})')
            i = self.date % n
            take_dates(results, self.src, [i])
            for suffix in ('', '_mask'):
                if self.src + suffix in results:
                    results[self.src + suffix] = results[self.src + suffix][0]
            for suffix in ('_doy', '_date_mask', '_cloud_fraction'):
                results.pop(self.src + suffix, None)
        for suffix in DATED_ARRAY_SUFFIXES + ('_dates', ):
            if self.src != self.dst and self.src + suffix in results:
                results[self.dst + suffix] = results.pop(self.src + suffix)
        if 'modalities_present' in results:
            results['modalities_present'] = [
                self.dst if m == self.src else m for m in results['modalities_present']
            ]
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(src={self.src!r}, dst={self.dst!r}, '
                f'date={self.date})')
