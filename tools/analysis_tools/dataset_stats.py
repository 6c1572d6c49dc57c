"""Per-band normalisation statistics of the data of a config's split.

The split's dataset is built from the config and up to ``--num-samples`` samples
are drawn at random (``--seed``; every sample, in order, when the number is at least
the dataset's length). Each goes through the split's pipeline up to, excluding,
``eofm.PackMultiModalInputs``: the statistics describe the arrays that
:class:`eofm.MultiModalDataPreprocessor` normalises, after loading, sensor scaling,
band arrangement (``eofm.ArrangeBands``, ``eofm.AppendBandRatio``...), temporal
sampling and the pipeline's augmentations (seeded too).

For every modality the pipeline packs (or those given with ``--modalities``) and
every band, over the valid pixels only (``m_mask`` True and, for series, the dates
whose ``m_date_mask`` is True; padded dates are left out): the number of values,
mean, standard deviation (population, ddof=0), minimum and maximum. Non-finite
values of valid pixels are left out too and counted. Each sample's sums are taken
in float64 and merged with Chan et al.'s pairwise update, so large offsets (e.g. dB
or digital numbers) and many samples cost no precision.

Output: a table, a config snippet ``normalize = dict(m=dict(mean=[...],
std=[...]), ...)`` (6 significant digits) to paste into the dataset config and,
with ``--out``, a JSON file with everything. A band of constant value (std 0, e.g.
a band filled by ``eofm.ArrangeBands``) gets std 1.0 in the snippet (the data
preprocessor needs positive stds) and a warning.

Examples::

    python tools/analysis_tools/dataset_stats.py configs/_base_/datasets/so2sat.py \\
        --data-root data/so2sat/ --num-samples 20000 --out so2sat_stats.json
    python tools/analysis_tools/dataset_stats.py configs/_base_/datasets/sickle.py \\
        --modalities s2 s1
"""
import argparse
import copy
import json
import os.path as osp
import random
import sys

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

# Run as a script, the repository root is not on sys.path.
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from tools.misc.check_dataset import SPLITS  # noqa: E402

STATS = ('count', 'mean', 'std', 'min', 'max')


class BandStats:
    """Running per-band count, mean, sum of squared deviations, min and max.

    Each :meth:`update` computes a batch's own mean and squared deviations in
    float64 and merges them with the running ones (Chan, Golub & LeVeque 1979).
    """

    def __init__(self, num_bands):
        self.count = np.zeros(num_bands, dtype=np.int64)
        self.mean = np.zeros(num_bands, dtype=np.float64)
        self.m2 = np.zeros(num_bands, dtype=np.float64)
        self.min = np.full(num_bands, np.inf)
        self.max = np.full(num_bands, -np.inf)
        self.nonfinite = np.zeros(num_bands, dtype=np.int64)

    @property
    def num_bands(self):
        return len(self.count)

    def update(self, values):
        """Add ``values`` (C, N): N values of each of the C bands."""
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        self.nonfinite += (~finite).sum(1)
        n_b = finite.sum(1)
        if not n_b.any():
            return
        x = np.where(finite, values, 0.0)
        safe = np.maximum(n_b, 1)
        mean_b = x.sum(1) / safe
        m2_b = (np.where(finite, x - mean_b[:, None], 0.0)**2).sum(1)
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        ratio = np.divide(n_b, n, out=np.zeros(len(n)), where=n > 0)
        self.mean = self.mean + delta * ratio
        self.m2 = self.m2 + m2_b + delta**2 * n_a * ratio
        self.count = n
        self.min = np.minimum(self.min, np.where(finite, x, np.inf).min(1))
        self.max = np.maximum(self.max, np.where(finite, x, -np.inf).max(1))

    @property
    def std(self):
        """Population standard deviation; exactly 0 for a constant band (the
        merged mean of equal values can differ from them in the last bit)."""
        std = np.sqrt(np.divide(self.m2, np.maximum(self.count, 1)))
        return np.where(self.min == self.max, 0.0, std)

    def as_dict(self):
        return dict(
            count=self.count.tolist(),
            mean=self.mean.tolist(),
            std=self.std.tolist(),
            min=self.min.tolist(),
            max=self.max.tolist(),
            nonfinite=self.nonfinite.tolist())


def valid_values(results, name):
    """(C, N) values of modality ``name``'s valid pixels in a pipeline's results.

    ``results[name]`` is (C, H, W) or (T, C, H, W); ``results[name + '_mask']``
    (H, W) / (T, H, W) marks the valid pixels (all valid when absent) and
    ``results[name + '_date_mask']`` (T,) the real dates of a series.
    """
    x = np.asarray(results[name])
    if x.ndim not in (3, 4):
        raise ValueError(f'{name}: expected (C, H, W) or (T, C, H, W) pixels, got '
                         f'shape {x.shape}')
    spatial = x.shape[:1] + x.shape[2:] if x.ndim == 4 else x.shape[1:]
    mask = results.get(name + '_mask')
    mask = np.ones(spatial, dtype=bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != spatial:
        raise ValueError(f'{name}_mask: expected shape {spatial} for pixels of shape '
                         f'{x.shape}, got {mask.shape}')
    if x.ndim == 4:
        date_mask = results.get(name + '_date_mask')
        if date_mask is not None:
            date_mask = np.asarray(date_mask, bool)
            if date_mask.shape != (x.shape[0], ):
                raise ValueError(f'{name}_date_mask: expected shape ({x.shape[0]},) '
                                 f'for {x.shape[0]} dates, got {date_mask.shape}')
            mask = mask & date_mask[:, None, None]
        x = np.moveaxis(x, 1, 0)  # (C, T, H, W)
    return x[:, mask]


def draw_indices(length, num_samples=None, seed=0):
    """Sorted indices of ``num_samples`` samples of ``length`` drawn without
    replacement with ``seed``; all of them when ``num_samples`` is None or at least
    ``length``."""
    if num_samples is None or num_samples >= length:
        return list(range(length))
    if num_samples < 1:
        raise ValueError(f'--num-samples must be positive, got {num_samples}')
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(length, num_samples, replace=False))


def _leaf(dataset, idx):
    """The dataset with a pipeline behind dataset wrappers, and the index in it."""
    while not hasattr(dataset, 'pipeline'):
        if hasattr(dataset, 'datasets'):  # ConcatDataset
            which, idx = dataset._get_ori_dataset_idx(idx)
            dataset = dataset.datasets[which]
        elif hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
            idx = dataset._get_ori_dataset_idx(idx)
            dataset = dataset.dataset
        else:
            raise TypeError(f'{type(dataset).__name__} has no pipeline')
    return dataset, idx


def _describe(ds_cfg):
    return f'{ds_cfg.get("type")}, data_root {ds_cfg.get("data_root")!r}'


def _build(registry, ds_cfg, split):
    """The dataset; a clear error when it cannot be built or is empty (MMEngine's
    serialisation fails on an empty data list: tell it from the build without)."""
    try:
        return registry.build(copy.deepcopy(ds_cfg))
    except Exception as e:  # noqa: BLE001 - re-raised with the dataset named
        error = e
    try:
        empty = len(registry.build(dict(ds_cfg, serialize_data=False))) == 0
    except Exception:  # noqa: BLE001 - the first error is the one to report
        empty = False
    if empty:
        raise ValueError(f'the {split} dataset ({_describe(ds_cfg)}) has no sample')
    raise ValueError(f'cannot build the {split} dataset ({_describe(ds_cfg)}): '
                     f'{type(error).__name__}: {error}') from error


def _split_pipeline(dataset, split):
    """(transforms before eofm.PackMultiModalInputs, the modalities it packs)."""
    from eofm.datasets.transforms.formatting import PackMultiModalInputs
    transforms = dataset.pipeline.transforms
    for i, t in enumerate(transforms):
        if isinstance(t, PackMultiModalInputs):
            return transforms[:i], list(t.modalities)
    raise ValueError(f'the {split} pipeline has no eofm.PackMultiModalInputs: the '
                     'modalities the data preprocessor normalises are unknown')


def _seed_everything(seed):
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def dataset_stats(cfg,
                  split='train',
                  num_samples=None,
                  seed=0,
                  modalities=None,
                  data_root=None,
                  progress=False):
    """Per-band statistics of a config's split.

    Args:
        cfg (Config): The config (a task or a dataset config).
        split (str): 'train', 'val' or 'test' (the ``{split}_dataloader``).
        num_samples (int, optional): Draw at most this many samples (all if None).
        seed (int): Seed of the draw and of the pipeline's random transforms.
        modalities (list[str], optional): Modalities to describe; default those
            the pipeline packs that occur in the drawn samples.
        data_root (str, optional): Overrides the dataset's ``data_root``.
        progress (bool): Show a progress bar.

    Returns:
        dict: ``split``, ``dataset_length``, ``indices`` (drawn), ``skipped``
        (samples a transform filtered out), ``modalities`` (name -> per-band lists
        ``count``, ``mean``, ``std``, ``min``, ``max``, ``nonfinite``) and
        ``normalize`` (name -> ``dict(mean, std)`` as in the snippet).
    """
    from eofm.registry import DATASETS
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}, expected one of {SPLITS}')
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise ValueError(f'the config has no {split}_dataloader.dataset')
    ds_cfg = copy.deepcopy(loader['dataset'])
    if data_root is not None:
        ds_cfg['data_root'] = data_root
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'eofm')):
        dataset = _build(DATASETS, ds_cfg, split)
        length = len(dataset)
        if length == 0:
            raise ValueError(f'the {split} dataset ({_describe(ds_cfg)}) has no '
                             'sample')
        leaf, _ = _leaf(dataset, 0)
        _, packed = _split_pipeline(leaf, split)
        unknown = [m for m in modalities or [] if m not in packed]
        if unknown:
            raise ValueError(f'unknown modality {", ".join(unknown)}: the {split} '
                             f'pipeline packs {packed}')
        wanted = list(modalities) if modalities else packed
        indices = draw_indices(length, num_samples, seed)
        _seed_everything(seed)
        stats, skipped = {}, []
        bar = None
        if progress:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(len(indices))
        for idx in indices:
            leaf, leaf_idx = _leaf(dataset, idx)
            transforms, _ = _split_pipeline(leaf, split)
            results = copy.deepcopy(leaf.get_data_info(leaf_idx))
            sample_id = results.get('sample_id', idx)
            for t in transforms:
                try:
                    results = t(results)
                except Exception as e:  # noqa: BLE001 - re-raised with the sample
                    raise ValueError(f'sample {idx} ({sample_id}): '
                                     f'{type(t).__name__}: {type(e).__name__}: '
                                     f'{e}') from e
                if results is None:
                    break
            if bar:
                bar.update()
            if results is None:
                skipped.append(idx)
                continue
            for view in results.get('views') or [results]:
                for name in wanted:
                    if name not in view:
                        continue
                    try:
                        values = valid_values(view, name)
                    except ValueError as e:
                        raise ValueError(f'sample {idx}: {e}') from None
                    acc = stats.setdefault(name, BandStats(values.shape[0]))
                    if values.shape[0] != acc.num_bands:
                        raise ValueError(
                            f'sample {idx}: {name} has {values.shape[0]} bands, '
                            f'earlier samples {acc.num_bands}')
                    acc.update(values)
        if bar:
            sys.stdout.write('\n')
    absent = [m for m in modalities or [] if m not in stats]
    if absent:
        raise ValueError(f'modality {", ".join(absent)} absent from all '
                         f'{len(indices)} drawn samples of {split}')
    empty = [
        f'{m}' + ('' if not s.count.any() else
                  f' (bands {np.flatnonzero(s.count == 0).tolist()})')
        for m, s in stats.items() if not s.count.all()
    ]
    if empty:
        raise ValueError(f'modality {", ".join(empty)} has no valid pixel in the '
                         f'{len(indices)} drawn samples of {split}')
    if not stats:
        raise ValueError(f'none of the modalities {wanted} occurs in the '
                         f'{len(indices)} drawn samples of {split}')
    out = {m: stats[m].as_dict() for m in wanted if m in stats}
    return dict(
        split=split,
        dataset_length=length,
        seed=seed,
        indices=indices,
        skipped=skipped,
        modalities=out,
        normalize={
            m: _normalize_entry(s)
            for m, s in out.items()
        })


def _round(v):
    return float(f'{v:.6g}')


def _normalize_entry(stats):
    std = [s if s > 0 else 1.0 for s in stats['std']]
    return dict(mean=[_round(v) for v in stats['mean']], std=[_round(v) for v in std])


def format_snippet(normalize):
    """``normalize = dict(m=dict(mean=[...], std=[...]), ...)`` config text."""

    def fmt(values):
        return '[' + ', '.join(f'{v:.6g}' for v in values) + ']'

    lines = [
        f'    {m}=dict(mean={fmt(s["mean"])}, std={fmt(s["std"])})'
        for m, s in normalize.items()
    ]
    return 'normalize = dict(\n' + ',\n'.join(lines) + ')'


def format_table(result):
    rows = [('modality', 'band', *STATS)]
    for m, s in result['modalities'].items():
        for b in range(len(s['count'])):
            rows.append(
                (m, str(b), str(s['count'][b]), *(f'{s[k][b]:.6g}' for k in STATS[1:])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)


def stat_warnings(result):
    out = []
    for m, s in result['modalities'].items():
        for b, (std, bad) in enumerate(zip(s['std'], s['nonfinite'])):
            if not std > 0:
                out.append(f'{m} band {b} is constant ({s["mean"][b]:.6g}): std set '
                           'to 1.0 in the snippet')
            if bad:
                out.append(f'{m} band {b}: {bad} non-finite values of valid pixels '
                           'left out')
    if result['skipped']:
        out.append(f'{len(result["skipped"])} samples filtered out by the pipeline')
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-band normalisation statistics of a config\'s data')
    parser.add_argument('config', help='config file (a task or a dataset config)')
    parser.add_argument('--split', default='train', choices=SPLITS)
    parser.add_argument(
        '--num-samples',
        type=int,
        default=None,
        help='draw at most this many samples at random (default: all)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the draw and of the pipeline\'s random transforms')
    parser.add_argument(
        '--modalities',
        nargs='+',
        default=None,
        help='modalities to describe (default: all the pipeline packs)')
    parser.add_argument('--data-root', help='overrides the dataset\'s data_root')
    parser.add_argument('--out', help='also write everything as JSON to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (a top-level data_root is applied to the '
        'dataset, as --data-root)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import eofm  # noqa: F401 - registers eofm and applies compatibility fixes
    cfg = Config.fromfile(args.config)
    data_root = args.data_root
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
        data_root = data_root or args.cfg_options.get('data_root')
    try:
        result = dataset_stats(
            cfg,
            split=args.split,
            num_samples=args.num_samples,
            seed=args.seed,
            modalities=args.modalities,
            data_root=data_root,
            progress=True)
    except (ValueError, TypeError) as e:
        raise SystemExit(f'{args.config}: {e}')
    result['config'] = args.config
    n = len(result['indices']) - len(result['skipped'])
    print(f'{args.split}: {n} of {result["dataset_length"]} samples '
          f'(seed {args.seed})')
    print(format_table(result))
    for w in stat_warnings(result):
        print(f'WARNING: {w}')
    print(format_snippet(result['normalize']))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == '__main__':
    main()
