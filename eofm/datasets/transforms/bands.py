"""Band-level transforms: give a modality the channels a pretrained projector expects.

Pretrained encoders fix the channels of each modality (AnySat's Sentinel-1 projector
takes VV, VH and their ratio; its Sentinel-2 projector ten bands with B8), while
benchmarks ship other sets (Sen1Floods11 and So2Sat give VV and VH only,
TimeSen2Crop has no B8, SICKLE's Landsat 8 product lacks three of the release's
eleven channels). These transforms work on the loaded (C, H, W) or (T, C, H, W)
arrays of :class:`eofm.LoadMultiModalTiles`, before packing.
"""
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures.batch_schema import mask_key
from .arguments import check_number

__all__ = ['AppendBandRatio', 'ArrangeBands']


def _modality(results, name, who):
    if name not in results:
        raise KeyError(f'{who}: modality {name!r} is not in the sample (sample '
                       f'{results.get("sample_id")}; present: '
                       f'{results.get("modalities_present")})')
    return np.asarray(results[name])


@TRANSFORMS.register_module()
class AppendBandRatio(BaseTransform):
    """Append the ratio of two channels as a new last channel.

    The AnySat reference builds its 3-channel Sentinel-1 / ALOS-2 input as
    ``(VV, VH, VV / (VH + eps))`` clamped to +-1e4; ``mode='difference'`` gives
    ``VV - VH``, the same ratio for data already in decibels.

    Args:
        modality (str): The modality.
        numerator (int): Channel index of the numerator.
        denominator (int): Channel index of the denominator.
        mode (str): 'ratio' (default) or 'difference'.
        eps (float): Added to the denominator.
        clip (float): The ratio is clamped to [-clip, clip].
    """

    def __init__(self,
                 modality,
                 numerator=0,
                 denominator=1,
                 mode='ratio',
                 eps=1e-6,
                 clip=1e4):
        if mode not in ('ratio', 'difference'):
            raise ValueError(f"AppendBandRatio: mode must be 'ratio' or 'difference', "
                             f'got {mode!r}')
        for name, v in (('numerator', numerator), ('denominator', denominator)):
            check_number('AppendBandRatio', name, v, 0, integer=True)
        check_number('AppendBandRatio', 'eps', eps, 0)
        check_number('AppendBandRatio', 'clip', clip, 0, low_open=True)
        self.modality, self.mode = modality, mode
        self.numerator, self.denominator = int(numerator), int(denominator)
        self.eps, self.clip = float(eps), float(clip)

    def transform(self, results):
        x = _modality(results, self.modality, 'AppendBandRatio')
        c = x.shape[-3]
        for idx in (self.numerator, self.denominator):
            if not -c <= idx < c:
                raise IndexError(f'AppendBandRatio: channel {idx} of {self.modality!r}'
                                 f' with {c} channels')
        num = np.take(x, [self.numerator], axis=-3)
        den = np.take(x, [self.denominator], axis=-3)
        if self.mode == 'difference':
            extra = num - den
        else:
            extra = np.clip(num / (den + self.eps), -self.clip, self.clip)
        mask = results.get(mask_key(self.modality))
        if mask is not None:
            extra = np.where(np.expand_dims(mask, -3), extra, 0)
        results[self.modality] = np.concatenate([x, extra.astype(x.dtype)], axis=-3)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(modality={self.modality!r}, '
                f'numerator={self.numerator}, denominator={self.denominator}, '
                f'mode={self.mode!r})')


@TRANSFORMS.register_module()
class ArrangeBands(BaseTransform):
    """Reorder a modality's channels to ``dst``, filling the ones it lacks.

    Example: TimeSen2Crop has nine Sentinel-2 bands, AnySat's projector takes ten
    (with B8)::

        dict(type='eofm.ArrangeBands', modality='s2',
             src=['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12'],
             dst=['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12'])

    Args:
        modality (str): The modality.
        src (Sequence[str]): Names of the loaded channels, in order.
        dst (Sequence[str]): Names of the output channels, in order; names not in
            ``src`` are filled with ``fill``.
        fill (float): Value of the filled channels. Normalisation comes later:
            the band's normalisation mean makes them 0 after it.
    """

    def __init__(self, modality, src, dst, fill=0.0):
        self.modality, self.src, self.dst = modality, list(src), list(dst)
        for what, names in (('src', self.src), ('dst', self.dst)):
            if len(set(names)) != len(names):
                raise ValueError(f'ArrangeBands: {what} has repeated names {names}')
        self.fill = check_number('ArrangeBands', 'fill', fill)
        self.index = [self.src.index(b) if b in self.src else None for b in self.dst]

    def transform(self, results):
        x = _modality(results, self.modality, 'ArrangeBands')
        if x.ndim < 3 or x.shape[-3] != len(self.src):
            raise ValueError(
                f'ArrangeBands: {self.modality!r} has shape {x.shape}, src names '
                f'{len(self.src)} channels {self.src} (sample '
                f'{results.get("sample_id")})')
        shape = list(x.shape)
        shape[-3] = len(self.dst)
        out = np.empty(shape, dtype=x.dtype)
        for i, j in enumerate(self.index):
            out[..., i, :, :] = self.fill if j is None else x[..., j, :, :]
        results[self.modality] = out
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(modality={self.modality!r}, '
                f'src={self.src}, dst={self.dst}, fill={self.fill})')
