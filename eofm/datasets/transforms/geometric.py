"""Spatial augmentations applied identically to every modality of a sample.

The host libraries' RandomCrop / RandomFlip / RandomResizedCrop work on one ``img``
(and its labels) at one resolution. Here every modality keeps its own pixel size
(0.3 m aerial next to 10 m Sentinel-2), so a crop box is chosen on the reference
modality's grid and snapped so that it covers whole pixels of every modality: the
exact pixel correspondence between modalities survives. Each transform composes
its map into ``results['geometry']`` (see :mod:`eofm.structures.view_geometry`), so
that two augmented views of a sample can be matched cell by cell.

Transformed keys: every modality in ``results['modalities_present']``, its
``_mask``, and the label maps in ``label_keys`` that are present.
"""
import math

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS
from eofm.structures.batch_schema import mask_key
from eofm.structures.view_geometry import (crop_geometry, flip_geometry,
                                           identity_geometry, rot90_geometry)
from .arguments import check_number, check_probability, check_range, check_size

__all__ = [
    'AlignedRandomCrop', 'AlignedRandomResizedCrop', 'AlignedRandomFlip',
    'AlignedRandomRot90'
]

LABEL_KEYS = ('gt_seg_map', 'gt_change_map', 'gt_instance_map')


def _spatial_keys(results, label_keys):
    keys = []
    for m in results.get('modalities_present', []):
        keys += [m, m + '_mask']
    keys += list(label_keys)
    return [k for k in keys if k in results]


def _compose(results, m):
    results['geometry'] = np.asarray(results.get('geometry', identity_geometry())) @ m


def _reference(results, reference, name):
    present = results.get('modalities_present') or []
    ref = reference if reference is not None else (present[0] if present else None)
    if ref is None or ref not in results:
        raise KeyError(f'{name}: reference modality {ref!r} is not loaded (present: '
                       f'{present})')
    return ref


def _grid_steps(results, keys, ref, name):
    """Per axis: the crop step on the reference grid that whole-pixel crops need.

    Returns ((step_y, step_x), {key: (scale_y, scale_x)}) where ``scale`` is a
    key's pixels per reference pixel.
    """
    ref_h, ref_w = results[ref].shape[-2:]
    steps, scales = [1, 1], {}
    for key in keys:
        scale = []
        for axis, (n_ref, n) in enumerate(zip((ref_h, ref_w), results[key].shape[-2:])):
            if n <= n_ref:
                ratio = n_ref / n
                if abs(ratio - round(ratio)) > 1e-9:
                    raise ValueError(
                        f'{name}: {key!r} has {n} px where the reference {ref!r} has '
                        f'{n_ref}; aligned crops need integer size ratios')
                steps[axis] = steps[axis] * int(round(ratio)) // math.gcd(
                    steps[axis], int(round(ratio)))
            elif n % n_ref:
                raise ValueError(f'{name}: {key!r} has {n} px, not a multiple of the '
                                 f'reference {ref!r} ({n_ref} px)')
            scale.append(n / n_ref)
        scales[key] = tuple(scale)
    return tuple(steps), scales


def _resize(arr, size, nearest):
    """Resize the last two axes of ``arr`` to ``size`` (H, W)."""
    h, w = size
    if arr.shape[-2:] == (h, w):
        return arr
    flat = arr.reshape(-1, *arr.shape[-2:])
    src = flat.astype(np.uint8) if arr.dtype == bool else flat
    if src.dtype == np.int64:
        src = src.astype(np.int32)
    # INTER_NEAREST_EXACT samples at pixel centres like INTER_LINEAR does, so
    # nearest and bilinear outputs stay on the same grid (INTER_NEAREST is offset).
    interp = cv2.INTER_NEAREST_EXACT if nearest else cv2.INTER_LINEAR
    out = np.stack([cv2.resize(s, (w, h), interpolation=interp) for s in src])
    return out.astype(arr.dtype).reshape(*arr.shape[:-2], h, w)


class _AlignedCropBase(BaseTransform):
    """Crop a box given on the reference grid from every key, then resize (opt.)."""

    def __init__(self, reference=None, label_keys=LABEL_KEYS, interpolation='bilinear'):
        if interpolation not in ('bilinear', 'nearest'):
            raise ValueError(f"{type(self).__name__}: interpolation must be 'bilinear' "
                             f"or 'nearest', got {interpolation!r}")
        self.reference = reference
        self.label_keys = tuple(label_keys)
        self.interpolation = interpolation

    def _box(self, ref_hw, steps):  # -> (y0, x0, h, w) on the reference grid
        raise NotImplementedError

    def _out_size(self, box):  # -> (H, W) of the reference after the crop
        return box[2], box[3]

    def transform(self, results):
        name = type(self).__name__
        ref = _reference(results, self.reference, name)
        keys = _spatial_keys(results, self.label_keys)
        steps, scales = _grid_steps(results, keys, ref, name)
        ref_h, ref_w = results[ref].shape[-2:]
        y0, x0, h, w = self._box((ref_h, ref_w), steps)
        out_h, out_w = self._out_size((y0, x0, h, w))
        for key in keys:
            sy, sx = scales[key]
            arr = results[key][...,
                               int(round(y0 * sy)):int(round((y0 + h) * sy)),
                               int(round(x0 * sx)):int(round((x0 + w) * sx))]
            nearest = (
                self.interpolation == 'nearest' or key.endswith('_mask')
                or key in self.label_keys)
            size = (max(int(round(out_h * sy)), 1), max(int(round(out_w * sx)), 1))
            results[key] = np.ascontiguousarray(_resize(arr, size, nearest))
        _compose(
            results,
            crop_geometry(x0 / ref_w, y0 / ref_h, (x0 + w) / ref_w, (y0 + h) / ref_h))
        return results


@TRANSFORMS.register_module()
class AlignedRandomCrop(_AlignedCropBase):
    """Random crop of ``size`` reference pixels, the same ground in every modality.

    The offset is drawn on the grid of the coarsest modality: with HR pixels 8x
    finer than Sentinel-2's, the crop moves in steps of 8 HR pixels.

    Args:
        size (int | tuple): (H, W) of the crop in reference pixels; must be a
            multiple of the coarsest modality's pixel.
        reference (str, optional): Modality whose grid ``size`` refers to; the first
            present modality by default.
        label_keys (Sequence[str]): Label maps cropped along.
    """

    def __init__(self, size, reference=None, label_keys=LABEL_KEYS):
        super().__init__(reference, label_keys)
        self.size = check_size(type(self).__name__, 'size', size)

    def _box(self, ref_hw, steps):
        box = []
        for n_ref, n, step in zip(ref_hw, self.size, steps):
            if n > n_ref or n % step:
                raise ValueError(
                    f'{type(self).__name__}: size {self.size} must fit the reference '
                    f'({ref_hw}) and be a multiple of the coarsest pixel {steps}')
            box.append(step * self._offset((n_ref - n) // step))
        return box[0], box[1], self.size[0], self.size[1]

    @staticmethod
    def _offset(slack):
        """Offset, in coarsest pixels, among ``0..slack``."""
        return np.random.randint(0, slack + 1)

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size}, reference={self.reference!r})'


@TRANSFORMS.register_module()
class AlignedCenterCrop(AlignedRandomCrop):
    """Centred crop of ``size`` reference pixels, the same ground in every modality.

    The deterministic counterpart of :class:`AlignedRandomCrop` for evaluation (e.g.
    FLAIR's 512 px = 102.4 m aerial patches cut to 500 px = 100 m for 10 m patches):
    the offset is half the slack, rounded down to the coarsest modality's grid.
    """

    @staticmethod
    def _offset(slack):
        return slack // 2


@TRANSFORMS.register_module()
class AlignedRandomResizedCrop(_AlignedCropBase):
    """Random-area, random-aspect crop resized to ``size``, aligned across modalities.

    The multi-crop of SkySense's HR views (paper Sec. 4.1, after SwAV/DINO): two
    global crops (``scale=(0.4, 1.0)``) and local crops (``scale=(0.05, 0.4)``,
    smaller ``size``) via :class:`MultiModalMultiView`. The box is snapped to whole
    pixels of every modality; each modality is resized by the same factor
    (bilinear; masks and labels nearest).

    Args:
        size (int | tuple): Output (H, W) in reference pixels.
        scale (tuple): Range of the crop's area fraction.
        ratio (tuple): Range of the aspect ratio (w / h).
        reference (str, optional): See :class:`AlignedRandomCrop`.
        label_keys (Sequence[str]): Label maps transformed along.
        interpolation (str): 'bilinear' or 'nearest' for the modalities' pixels.
        max_attempts (int): Draws before falling back to the whole grid.
    """

    def __init__(self,
                 size,
                 scale=(0.08, 1.0),
                 ratio=(3 / 4, 4 / 3),
                 reference=None,
                 label_keys=LABEL_KEYS,
                 interpolation='bilinear',
                 max_attempts=10):
        super().__init__(reference, label_keys, interpolation)
        owner = type(self).__name__
        self.size = check_size(owner, 'size', size)
        self.scale = check_range(owner, 'scale', scale, 0, 1, low_open=True)
        self.ratio = check_range(owner, 'ratio', ratio, 0, low_open=True)
        self.max_attempts = check_number(owner, 'max_attempts', max_attempts, 1,
                                         integer=True)

    def _box(self, ref_hw, steps):
        H, W = ref_hw
        for _ in range(self.max_attempts):
            area = H * W * np.random.uniform(*self.scale)
            r = math.exp(
                np.random.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
            h = int(round(math.sqrt(area / r) / steps[0])) * steps[0]
            w = int(round(math.sqrt(area * r) / steps[1])) * steps[1]
            if 0 < h <= H and 0 < w <= W:
                break
        else:  # fall back to the largest centred box (torchvision's rule)
            h, w = H // steps[0] * steps[0], W // steps[1] * steps[1]
        y0 = steps[0] * np.random.randint(0, (H - h) // steps[0] + 1)
        x0 = steps[1] * np.random.randint(0, (W - w) // steps[1] + 1)
        return y0, x0, h, w

    def _out_size(self, box):
        return self.size

    def __repr__(self):
        return (f'{type(self).__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, reference={self.reference!r})')


@TRANSFORMS.register_module()
class AlignedRandomFlip(BaseTransform):
    """Flip every modality (and label map) of a sample together.

    Args:
        prob (float): Probability of flipping along each direction.
        directions (Sequence[str]): 'horizontal' and/or 'vertical'; each is drawn
            independently.
        label_keys (Sequence[str]): Label maps flipped along.
    """

    def __init__(self, prob=0.5, directions=('horizontal', ), label_keys=LABEL_KEYS):
        for d in directions:
            flip_geometry(d)  # validates
        check_probability(type(self).__name__, prob)
        self.prob, self.directions, self.label_keys = prob, tuple(directions), tuple(
            label_keys)

    def transform(self, results):
        keys = _spatial_keys(results, self.label_keys)
        for d in self.directions:
            if np.random.rand() >= self.prob:
                continue
            axis = -1 if d == 'horizontal' else -2
            for key in keys:
                results[key] = np.flip(results[key], axis=axis).copy()
            _compose(results, flip_geometry(d))
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, directions={self.directions})'


@TRANSFORMS.register_module()
class AlignedRandomRot90(BaseTransform):
    """Rotate every modality by the same random multiple of 90 degrees.

    Args:
        prob (float): Probability of rotating; the number of quarter turns is then
            uniform in {1, 2, 3}.
        label_keys (Sequence[str]): Label maps rotated along.
    """

    def __init__(self, prob=0.75, label_keys=LABEL_KEYS):
        check_probability(type(self).__name__, prob)
        self.prob, self.label_keys = prob, tuple(label_keys)

    def transform(self, results):
        if np.random.rand() >= self.prob:
            return results
        k = int(np.random.randint(1, 4))
        for key in _spatial_keys(results, self.label_keys):
            results[key] = np.rot90(results[key], k, axes=(-2, -1)).copy()
        _compose(results, rot90_geometry(k))
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob})'
