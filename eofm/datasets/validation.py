"""Checks of what a sample holds against what the dataset and the config declare.

Two layers use these functions:

* the loader and :class:`eofm.MultiModalDataset` (cheap, always on): a value that
  cannot be right (a label outside the classes, a latitude of 95, 16-bit values
  under an 8-bit scaling) is an error naming the sample, the file and the field;
* ``tools/misc/check_dataset.py`` (deeper, on demand): every problem of every
  sample in one report, plus the channel means against the normalisation
  statistics of the config.

Each ``*_problems`` function returns a list of messages (empty when all is well),
so that the dataset can raise the first and the checker can report them all.
"""
import numpy as np

__all__ = [
    'IGNORE_INDEX', 'label_problems', 'lonlat_problems', 'scaling_problem',
    'normalization_problems', 'ALL_INVALID_POLICIES'
]

#: The label value meaning "no label" (mmseg's default ``ignore_index``).
IGNORE_INDEX = 255

#: What training does with a sample one of whose modalities has no valid pixel
#: (see :class:`eofm.MultiModalDataset`).
ALL_INVALID_POLICIES = ('skip', 'drop', 'error')


def _values(arr):
    a = arr.numpy() if hasattr(arr, 'numpy') else np.asarray(arr)
    return a


def label_problems(results, classes, ignore_index=IGNORE_INDEX, num_classes=None):
    """Labels of one sample outside the dataset's classes.

    Args:
        results (dict): The sample's fields (``gt_label``, ``gt_labels``,
            ``gt_seg_map``), as arrays, tensors or numbers; a packed sample's
            ``data_samples`` is read too.
        classes (Sequence[str] | dict | None): The dataset's class names, or a
            dict field -> class names for datasets whose fields index different
            lists (TreeSatAI: ``gt_label`` a species, ``gt_labels`` the genera).
        ignore_index (int | Sequence[int] | None): The value(s) that mark unlabelled
            pixels (the dataset's and the model's, e.g. PASTIS' void class 19).
        num_classes (int, optional): The model's number of classes, when known:
            labels must also be below it.

    Returns:
        list[str]: One message per field with bad values, quoting up to five.
    """
    sample = results.get('data_samples') if isinstance(results, dict) else None
    fields = {}
    for key in ('gt_label', 'gt_labels', 'gt_seg_map'):
        if isinstance(results, dict) and key in results:
            fields[key] = results[key]
        elif sample is not None and key in sample:
            fields[key] = sample.get(key)
    ignored = sorted({int(v) for v in ([ignore_index] if isinstance(
        ignore_index, (int, np.integer)) else (ignore_index or ())) if v is not None})
    out = []
    for key, value in fields.items():
        names = classes.get(key) if isinstance(classes, dict) else classes
        limits = []
        if names:
            limits.append((len(names), f'the {len(names)} classes of the dataset'))
        if num_classes:
            limits.append((int(num_classes), f"the model's num_classes={num_classes}"))
        a = _values(value)
        if key == 'gt_labels':  # multi-hot: one entry per class the model predicts
            # (a subset of the dataset's classes, e.g. PASTIS' crops without the
            # background and void classes)
            for n, what in limits[1:] if names else limits:
                if a.shape[-1:] != (n, ):
                    out.append(f'{key}: {a.shape[-1] if a.ndim else 0} entries, '
                               f'expected one per class ({what})')
            if a.size and not np.isin(a, (0, 1)).all():
                out.append(f'{key}: values {np.unique(a)[:5].tolist()} are not '
                           'multi-hot (0 / 1)')
            continue
        u = np.unique(a.astype(np.int64))
        for n, what in limits:
            out_of = (u < 0) | (u >= n)
            if key == 'gt_seg_map' and ignored:
                out_of &= ~np.isin(u, ignored)
            bad = u[out_of]
            if bad.size:
                ign = (f" (ignore_index {', '.join(map(str, ignored))} "
                       f"{'is' if len(ignored) == 1 else 'are'} allowed)"
                       if key == 'gt_seg_map' and ignored else '')
                out.append(f'{key}: values {bad[:5].tolist()} are outside '
                           f'0..{n - 1} of {what}{ign}')
    return out


def lonlat_problems(geo):
    """A sample's ``geo`` lon / lat outside [-180, 180] / [-90, 90] (or not numbers)."""
    out = []
    if not isinstance(geo, dict):
        return out
    for key, lim in (('lon', 180.0), ('lat', 90.0)):
        v = geo.get(key)
        if v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(f'geo.{key}: {v!r} is not a number')
            continue
        if not np.isfinite(f) or abs(f) > lim:
            out.append(f'geo.{key}: {v!r} is outside -{lim:g}..{lim:g} degrees '
                       '(swapped lon / lat, or projected coordinates?)')
    return out


# What the raw values (before scaling) of each named scaling must look like:
# (test on the valid raw values, message). The scalings themselves are in
# eofm.datasets.transforms.loading.SENSOR_SCALINGS.
def _uint8(raw):
    hi = float(raw.max())
    if raw.min() < 0 or hi > 255:
        return (f'values reach {hi:g}: not 8-bit data (a 16-bit or 11-bit product? '
                "use its own scaling, e.g. scale='uint11' or scale='none' with "
                'matching normalisation statistics)')
    if hi <= 1.0 and not np.array_equal(raw, np.round(raw)):
        return ("every value is a fraction within 0..1: the data look scaled "
                "already (use scale='none')")


def _uint11(raw):
    hi = float(raw.max())
    if raw.min() < 0 or hi > 2047:
        return f'values reach {hi:g}: not 11-bit data'


def _reflectance(raw):
    hi = float(np.abs(raw).max())
    if hi <= 2.0:
        return (f'every value is within +-{hi:.3g}: the data look like reflectance '
                "already, not digital numbers (use scale='none')")


def _db(raw):
    neg = float((raw < 0).mean())
    if neg > 0.5:
        return (f'{neg:.0%} of the values are negative: the data look like dB '
                "already, not linear backscatter (use scale='none')")


_RAW_CHECKS = dict(uint8=_uint8, uint11=_uint11, reflectance=_reflectance, db=_db)


def scaling_problem(scale, raw, valid):
    """Why the raw values of a modality cannot be in the declared ``scale``.

    Args:
        scale (str): The modality's ``scale`` (a key of ``SENSOR_SCALINGS``).
        raw (np.ndarray): Values as read, (C, H, W).
        valid (np.ndarray): Their validity (nodata / NaN excluded), same shape.

    Returns:
        str | None: The reason, or None when the values are plausible.
    """
    check = _RAW_CHECKS.get(scale)
    values = raw[valid]
    if check is None or values.size == 0:
        return None
    return check(values)


def normalization_problems(name, data, mask, mean, std, max_sigma=10.0):
    """Channels of one sample whose mean is far from the normalisation mean.

    A sample's channel mean more than ``max_sigma`` normalisation standard
    deviations from the normalisation mean means the data are not in the scale the
    statistics were measured in (HR stored as uint16 under ``scale='uint8'`` gives
    a mean of 139 against 0.44).

    Args:
        name (str): The modality.
        data (np.ndarray | Tensor): (C, H, W) or (T, C, H, W) pixels.
        mask (np.ndarray | Tensor | None): Validity, (H, W) or (T, H, W).
        mean, std (Sequence[float]): The normalisation statistics.
        max_sigma (float): The distance that is flagged.

    Returns:
        list[str]: One message per modality with far channels.
    """
    x = _values(data).astype(np.float64)
    x = x.reshape(-1, *x.shape[-3:])  # (T, C, H, W)
    if x.shape[1] != len(mean):
        return [f'{name}: {x.shape[1]} channels, the normalisation statistics have '
                f'{len(mean)}']
    m = None if mask is None else _values(mask).astype(bool).reshape(x.shape[0],
                                                                   *x.shape[-2:])
    far = []
    for c, (mu, sd) in enumerate(zip(mean, std)):
        v = x[:, c][m] if m is not None else x[:, c].ravel()
        if v.size == 0:
            continue
        got = float(v.mean())
        if abs(got - mu) > max_sigma * sd:
            far.append(f'channel {c}: mean {got:.4g}, normalisation mean {mu:g} '
                       f'(std {sd:g})')
    if not far:
        return []
    return [f'{name}: data not in the scale of the normalisation statistics ('
            + '; '.join(far[:3]) + ('; ...' if len(far) > 3 else '') +
            '): check the modality\'s scale and the statistics']
