"""Normalisation statistics given by file: the JSON ``tools/analysis_tools/
dataset_stats.py --out`` writes, referenced from a config instead of pasted.

``normalize='work_dirs/my_stats.json'`` (every modality of the file) or
``normalize=dict(s2='my_stats.json', hr=dict(mean=[...], std=[...]))`` (per
modality) in :class:`eofm.MultiModalDataPreprocessor`.
"""
import json
import os.path as osp

__all__ = ['NormalizationFileError', 'resolve_normalize', 'read_normalization_file']


class NormalizationFileError(ValueError):
    """A normalisation file that cannot be used (missing, not JSON, wrong layout)."""


def read_normalization_file(path):
    """``{modality: dict(mean, std)}`` of a statistics file: dataset_stats.py's JSON
    (its ``normalize`` entry) or a JSON of that mapping alone."""
    if not osp.isfile(path):
        raise NormalizationFileError(f'normalisation file {path} does not exist (write '
                                     'it with tools/analysis_tools/dataset_stats.py '
                                     '--out)')
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise NormalizationFileError(f'normalisation file {path}: not JSON ({e})') from e
    stats = data.get('normalize', data) if isinstance(data, dict) else None
    if not isinstance(stats, dict) or not all(
            isinstance(v, dict) and 'mean' in v and 'std' in v for v in stats.values()):
        raise NormalizationFileError(
            f'normalisation file {path}: expected {{"normalize": {{modality: {{"mean": '
            '[...], "std": [...]}}}}}} as dataset_stats.py writes it')
    return {m: dict(mean=list(v['mean']), std=list(v['std'])) for m, v in stats.items()}


def resolve_normalize(normalize):
    """``normalize`` with file references replaced by their statistics."""
    if normalize is None:
        return {}
    if isinstance(normalize, str):
        return read_normalization_file(normalize)
    out = {}
    for name, stats in dict(normalize).items():
        if isinstance(stats, str):
            stats = read_normalization_file(stats)
            if name not in stats:
                raise NormalizationFileError(
                    f'normalize.{name}: the file has no statistics of {name!r} (it has '
                    f'{sorted(stats)})')
            stats = stats[name]
        out[name] = stats
    return out
