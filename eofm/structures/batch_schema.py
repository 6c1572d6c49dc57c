"""The batch schema: every key of the sample results and batch dicts eofm builds.

A sample's ``results`` (what the loading transforms give) and the batch dict that
:class:`eofm.MultiModalDataPreprocessor` hands every model hold, per modality ``m``
(``hr``, ``s2``, ``s1_asc``, ...: Python identifiers), the data under ``m`` and its
companions under ``m`` + a suffix:

============================  ==========================  ==============================
key                           sample (results)            batch
============================  ==========================  ==============================
``m``                         (C, H, W) / (T, C, H, W)    (B, C, H, W) / (B, T, C, H, W)
``m_mask`` (:data:`MASK`)     pixel validity ([T,] H, W)  (B, [T,] H, W) bool
``m_doy`` (:data:`DOY`)       (T,) day of year, int64     (B, T); 0 = undated / padded
``m_date_mask``               (T,) bool, False = padded   (B, T) bool
``m_cloud_fraction``          (T,) float (cloud filter)   -
``m_present``                 -                           (B,) bool: the sample has ``m``
``m_dates`` (:data:`DATES`)   ISO date strings            the data samples' metainfo
``lonlat`` (:data:`LONLAT`)   -                           (B, 2) degrees
``modalities_present``        the modalities read         -
============================  ==========================  ==============================

Everything in eofm builds and reads these keys through this module, so the
convention is written down once. One model speaks another dialect: AnySat's release
takes ``{m}_dates`` (B, T) days of year, one ``{m}_mask`` broadcastable to
(B, T, C, H, W) and dashed names (``s1-asc``); :meth:`eofm.AnySat.adapt_batch` is the
one place where this schema becomes AnySat's.
"""
from typing import Iterable, List, Optional, Tuple

__all__ = [
    'MASK', 'DOY', 'DATE_MASK', 'CLOUD_FRACTION', 'PRESENT', 'DATES', 'LONLAT',
    'MODALITIES_PRESENT', 'SUFFIXES', 'DATED_ARRAY_SUFFIXES', 'mask_key', 'doy_key',
    'date_mask_key', 'present_key', 'dates_key', 'split_key', 'is_modality_key',
    'modality_names', 'companion_keys'
]

MASK = '_mask'
DOY = '_doy'
DATE_MASK = '_date_mask'
CLOUD_FRACTION = '_cloud_fraction'
PRESENT = '_present'
DATES = '_dates'
LONLAT = 'lonlat'
MODALITIES_PRESENT = 'modalities_present'

#: Every companion suffix, longest match first (``_date_mask`` before ``_mask``).
SUFFIXES = (DATE_MASK, CLOUD_FRACTION, PRESENT, DATES, MASK, DOY)
#: Arrays of a dated modality that share its time axis (taken / padded with it).
DATED_ARRAY_SUFFIXES = ('', MASK, DOY, DATE_MASK, CLOUD_FRACTION)
#: Keys of a sample / batch that are not modalities nor their companions.
NON_MODALITY_KEYS = frozenset({LONLAT, MODALITIES_PRESENT})


def mask_key(m: str) -> str:
    """``m_mask``: pixel validity of modality ``m``."""
    return m + MASK


def doy_key(m: str) -> str:
    """``m_doy``: day of year of each date of ``m``."""
    return m + DOY


def date_mask_key(m: str) -> str:
    """``m_date_mask``: False for padded dates of ``m``."""
    return m + DATE_MASK


def present_key(m: str) -> str:
    """``m_present``: per sample of a batch, whether it has ``m``."""
    return m + PRESENT


def dates_key(m: str) -> str:
    """``m_dates``: the ISO dates of ``m`` (metainfo; AnySat: its days of year)."""
    return m + DATES


def split_key(key: str) -> Tuple[Optional[str], str]:
    """``(modality, suffix)`` of a key: ``'s2_doy'`` -> ``('s2', '_doy')``, ``'s2'`` ->
    ``('s2', '')``; keys that belong to no modality (``lonlat``,
    ``modalities_present``) -> ``(None, key)``."""
    if key in NON_MODALITY_KEYS:
        return None, key
    for suffix in SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[:-len(suffix)], suffix
    return key, ''


def is_modality_key(key: str) -> bool:
    """Whether ``key`` holds a modality's data (not a companion, not ``lonlat``)."""
    name, suffix = split_key(key)
    return name is not None and suffix == ''


def modality_names(batch: Iterable[str]) -> List[str]:
    """The modalities of a sample / batch dict (or of any iterable of keys), in order."""
    return [k for k in batch if is_modality_key(k)]


def companion_keys(m: str, suffixes: Iterable[str] = SUFFIXES) -> List[str]:
    """``m`` + each of ``suffixes`` (default: every companion)."""
    return [m + s for s in suffixes]
