"""Frozen-encoder evaluation: features once, k-NN and linear probes at label fractions.

``run_probe(config, checkpoint, dataset_config, csv_path)`` builds the model of a
config (any eofm / host model: a pretraining algorithm, a backbone config, a
fine-tuning config), loads ``checkpoint`` strictly (or keeps its random
initialisation, the fair baseline: the same architecture and initialisation
scheme, ``checkpoint=None``), runs every sample of the dataset config's train and
validation splits through its test pipeline and the model's data preprocessor, and
keeps per tile the pooled feature map (tile level: ``gt_label``, or the majority
class of ``gt_seg_map``) and up to ``pixels_per_tile`` feature-map pixels with
their labels (pixel level: ``gt_seg_map`` at the feature grid, nearest). Features
are cached (``.npz`` next to the CSV, keyed by the config, checkpoint sha256 and
dataset), so further fractions and seeds do not extract again.

For each level, probe (:func:`eofm.evaluation.probes.knn_predict`,
:func:`~eofm.evaluation.probes.fit_linear_probe`), label fraction (stratified) and
seed, one CSV row: the model's label, the config hash, the checkpoint's sha256 (or
``random-init-seed{N}``), the dataset hash, the level, probe, fraction, seed,
training / test sizes, accuracy and its bootstrapped 95 % interval (pixels
resampled by tile). A rerun adds only the rows that are missing. The CSV is
rewritten atomically after each row. :func:`plot_probe_results` draws accuracy
against label fraction per model.

Features: a model's ``probe_features(inputs)`` when it defines one, else
``extract_feat(inputs)`` (a pretraining algorithm's exported encoder, e.g.
SkySense's teacher), else ``backbone(inputs)`` or the model itself; a tuple gives
its last element. (B, D, h, w) maps give both levels, (B, D) vectors the tile level.
"""
import csv
import hashlib
import io
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from eofm.apis.features import model_features
from eofm.evaluation.probes import plot_probe_results, probe_features, summarize
from eofm.utils.checkpoint import atomic_write_bytes, sha256_file
from eofm.utils.precision import autocast

__all__ = ['run_probe', 'extract_probe_features', 'model_features',
           'plot_probe_results', 'summarize', 'PROBE_COLUMNS', 'ProbeError']

PROBE_COLUMNS = ('model', 'config_hash', 'checkpoint', 'dataset_hash', 'feature',
                 'precision', 'level', 'probe', 'fraction', 'seed', 'n_train', 'n_test',
                 'accuracy', 'ci_low', 'ci_high')
KEY_COLUMNS = ('config_hash', 'checkpoint', 'dataset_hash', 'feature', 'precision',
               'level', 'probe', 'fraction', 'seed')
#: The ``feature`` of rows of the model's default features.
DEFAULT_FEATURE = 'default'
#: Columns that files written before them lack, and what their rows were.
_LEGACY_COLUMNS = dict(feature=DEFAULT_FEATURE, precision='fp32')
IGNORE_INDEX = 255


class ProbeError(ValueError):
    """A probe run that cannot go on (named config, dataset or feature problem)."""


def _cfg_hash(cfg):
    text = cfg.pretty_text if hasattr(cfg, 'pretty_text') else json.dumps(cfg, sort_keys=True,
                                                                        default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- features
def _feature_maps(model, inputs, feature=None):
    """(B, D, h, w) or (B, D) features (:func:`eofm.apis.features.model_features`)."""
    try:
        out = model_features(model, inputs, feature)
    except TypeError as e:
        raise ProbeError(str(e)) from e
    if out.dim() not in (2, 4):
        raise ProbeError(f'{type(model).__name__}: its features are {tuple(out.shape)}; '
                         'the probe needs (B, D, h, w) maps or (B, D) vectors (define '
                         'probe_features(inputs) on the model, or add a neck such as '
                         'eofm.TokensToMap)')
    return out


def _tile_label(sample):
    if 'gt_label' in sample:
        return int(torch.as_tensor(sample.gt_label).view(-1)[0])
    if 'gt_seg_map' in sample:
        seg = torch.as_tensor(sample.gt_seg_map).view(-1)
        seg = seg[seg != IGNORE_INDEX]
        return int(seg.mode().values) if len(seg) else -1
    return -1


@torch.no_grad()
def extract_probe_features(model, dataset, batch_size=8, pixels_per_tile=256, seed=0,
                           device='cpu', progress=True, feature=None, precision='fp32'):
    """Tile and pixel features of every sample of ``dataset`` (see module docstring),
    the model run in ``precision`` (``'fp32'``, ``'bf16'`` or ``'fp16'`` autocast;
    the features are kept in fp32).

    Returns:
        dict of numpy arrays: ``tile_x`` (N, D), ``tile_y`` (N,), and when the model
        gives maps and the samples carry ``gt_seg_map``: ``pixel_x`` (P, D),
        ``pixel_y`` (P,), ``pixel_tile`` (P,) the tile of each pixel.
    """
    from mmengine.utils import ProgressBar

    from eofm.datasets import multimodal_collate
    model.eval()
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ('tile_x', 'tile_y', 'pixel_x', 'pixel_y', 'pixel_tile')}
    bar = ProgressBar(len(dataset)) if progress else None
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        data = model.data_preprocessor(multimodal_collate(items), False)
        with autocast(precision, device):
            feats = _feature_maps(model, data['inputs'], feature)
        feats = feats.float().cpu()
        for j, item in enumerate(items):
            sample = item['data_samples']
            f = feats[j]
            out['tile_x'].append((f.mean((1, 2)) if f.dim() == 3 else f).numpy())
            out['tile_y'].append(_tile_label(sample))
            if f.dim() == 3 and 'gt_seg_map' in sample:
                seg = torch.as_tensor(sample.gt_seg_map)[None, None].float()
                seg = F.interpolate(seg, size=f.shape[-2:], mode='nearest')[0, 0].long()
                idx = np.flatnonzero(seg.flatten().numpy() != IGNORE_INDEX)
                if len(idx) > pixels_per_tile:
                    idx = np.sort(rng.choice(idx, pixels_per_tile, replace=False))
                out['pixel_x'].append(f.flatten(1).t()[idx].numpy())
                out['pixel_y'].append(seg.flatten()[idx].numpy())
                out['pixel_tile'].append(np.full(len(idx), start + j))
            if bar is not None:
                bar.update()
    res = dict(tile_x=np.stack(out['tile_x']), tile_y=np.asarray(out['tile_y']))
    if out['pixel_x']:
        res.update(pixel_x=np.concatenate(out['pixel_x']),
                   pixel_y=np.concatenate(out['pixel_y']),
                   pixel_tile=np.concatenate(out['pixel_tile']))
    return res


# ---------------------------------------------------------------------- building
def _build_model(cfg, checkpoint, seed, device):
    import importlib

    from mmengine.registry import DefaultScope

    from eofm.models.common import PretrainedMismatchError, load_pretrained
    from eofm.registry import MODELS
    scope = cfg.get('default_scope', 'eofm')
    if scope != 'eofm':
        importlib.import_module(f'{scope}.utils').register_all_modules(False)
    from .checkpoint_normalization import apply_checkpoint_normalization
    apply_checkpoint_normalization(cfg, checkpoint)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
    if hasattr(model, 'init_weights'):
        model.init_weights()
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise ProbeError(f'checkpoint {checkpoint} does not exist')
        try:
            load_pretrained(model, checkpoint, hint='  Is it a checkpoint of this config?')
        except PretrainedMismatchError as e:
            raise ProbeError(f'checkpoint {checkpoint} does not fit the model of the '
                             f'config: {e}') from e
    return model.to(device).eval(), scope


def _split_datasets(dataset_cfg, where):
    """Train and test dataset configs, both with the test pipeline."""
    import copy
    train = (dataset_cfg.get('train_dataloader') or {}).get('dataset')
    test_loader = dataset_cfg.get('val_dataloader') or dataset_cfg.get('test_dataloader')
    test = (test_loader or {}).get('dataset')
    if train is None or test is None:
        raise ProbeError(f'{where}: the dataset config needs train_dataloader.dataset '
                         'and val_dataloader.dataset (or test_dataloader.dataset)')
    train = copy.deepcopy(train)
    if 'pipeline' in test:
        train['pipeline'] = copy.deepcopy(test['pipeline'])
    return train, copy.deepcopy(test)


# ---------------------------------------------------------------------- the CSV
def _read_rows(path):
    if not osp.isfile(path):
        return []
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    missing = set(PROBE_COLUMNS) - set(rows[0]) if rows else set()
    if rows and missing <= set(_LEGACY_COLUMNS) and set(rows[0]) <= set(PROBE_COLUMNS):
        for r in rows:  # a file from before these columns: default features, fp32
            r.update({k: _LEGACY_COLUMNS[k] for k in missing})
    if rows and set(rows[0]) != set(PROBE_COLUMNS):
        raise ProbeError(f'{path}: not a probe results file (columns {list(rows[0])}, '
                         f'expected {list(PROBE_COLUMNS)})')
    return rows


def _row_key(row):
    return tuple(str(row[k]) if k != 'fraction' else f'{float(row[k]):g}'
                 for k in KEY_COLUMNS)


def _write_rows(path, rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=PROBE_COLUMNS, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(buf.getvalue().encode(), path)


# ---------------------------------------------------------------------- the run
def run_probe(config,
              checkpoint,
              dataset_config,
              csv_path,
              label=None,
              fractions: Sequence[float] = (0.01, 0.05, 0.1, 1.0),
              seeds: Sequence[int] = (0, 1, 2),
              levels: Sequence[str] = ('tile', 'pixel'),
              probes: Sequence[str] = ('knn', 'linear'),
              k=20,
              temperature=0.07,
              init_seed=0,
              pixels_per_tile=256,
              batch_size=8,
              device='cpu',
              cfg_options: Optional[Dict] = None,
              data_root: Optional[str] = None,
              progress=True,
              feature: Optional[str] = None,
              precision: str = 'fp32') -> List[Dict]:
    """Run the probes (see the module docstring); returns every row of the CSV.

    Args:
        config (str | Config): The model's config.
        checkpoint (str, optional): Its weights; None for the random-init baseline
            (seeded by ``init_seed``).
        dataset_config (str | Config): A config whose ``train_dataloader`` and
            ``val_dataloader`` (or ``test_dataloader``) datasets are the probe's
            training and test sets (both run with the test pipeline).
        csv_path (str): Results file, created or extended.
        label (str, optional): The model's name in the CSV and the plot.
        data_root (str, optional): Set on every dataset of ``dataset_config``
            (through dataset wrappers).
        feature (str, optional): A named feature map of the model (its
            ``named_features``, e.g. SkySense's ``'hr'``, ``'s2'``, ``'fused_mm'``)
            instead of its default features; a column of the CSV.
        precision (str): Of the feature extraction: ``'fp32'`` (default), ``'bf16'``
            (autocast; CPUs with bf16 matrix units, GPUs), ``'fp16'`` (GPUs) or
            ``'auto'`` (bf16 where the CPU has the units, see
            :mod:`eofm.utils.precision`); the precision that ran is a column of the
            CSV (rows of two precisions are not mixed) and part of the cache key.
    """
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from eofm.apis.runner_setup import load_config
    from eofm.registry import DATASETS
    bad = [lv for lv in levels if lv not in ('tile', 'pixel')] + [
        p for p in probes if p not in ('knn', 'linear')]
    if bad:
        raise ProbeError(f"levels must be among ('tile', 'pixel') and probes among "
                         f"('knn', 'linear'), got {bad}")
    from eofm.utils.precision import resolve_precision
    try:
        precision = resolve_precision(precision, device)
    except ValueError as e:
        raise ProbeError(f'precision: {e}') from e
    cfg = load_config(config, cfg_options) if isinstance(config, str) else config
    dcfg = load_config(dataset_config) if isinstance(dataset_config, str) else \
        Config(dict(dataset_config))
    where = dataset_config if isinstance(dataset_config, str) else 'dataset config'
    ckpt_id = sha256_file(checkpoint) if checkpoint else f'random-init-seed{init_seed}'
    cfg_hash = _cfg_hash(cfg)
    train_cfg, test_cfg = _split_datasets(dcfg, where)
    if data_root is not None:
        from eofm.datasets.nested import override_dataset_cfg
        train_cfg = override_dataset_cfg(train_cfg, data_root=data_root)
        test_cfg = override_dataset_cfg(test_cfg, data_root=data_root)
    data_hash = hashlib.sha256(
        json.dumps([train_cfg, test_cfg], sort_keys=True, default=str).encode()).hexdigest()[:16]
    label = label or (osp.splitext(osp.basename(checkpoint))[0] if checkpoint else
                      'random init')
    feat_name = feature or DEFAULT_FEATURE
    rows = _read_rows(csv_path)
    done = {_row_key(r) for r in rows}
    todo = [(lv, p, f, s) for lv in levels for p in probes for f in fractions for s in seeds
            if _row_key(dict(config_hash=cfg_hash, checkpoint=ckpt_id, dataset_hash=data_hash,
                             feature=feat_name, precision=precision, level=lv, probe=p,
                             fraction=f, seed=s))
            not in done]
    if not todo:
        return rows
    suffix = ('' if feature is None else f'_{feature}') + (
        '' if precision == 'fp32' else f'_{precision}')
    cache = osp.join(osp.dirname(osp.abspath(csv_path)), '.probe_cache',
                     f'{cfg_hash}_{ckpt_id[:16]}_{data_hash}{suffix}.npz')
    if osp.isfile(cache):
        with np.load(cache) as z:
            feats = {k: z[k] for k in z.files}
    else:
        model, scope = _build_model(cfg, checkpoint, init_seed, device)
        feats = {}
        with DefaultScope.overwrite_default_scope(scope):
            for split, dcfg_split in (('train', train_cfg), ('test', test_cfg)):
                with DefaultScope.overwrite_default_scope('eofm'):
                    ds = DATASETS.build(dcfg_split)
                part = extract_probe_features(model, ds, batch_size, pixels_per_tile,
                                              init_seed, device, progress, feature,
                                              precision)
                feats.update({f'{split}_{k}': v for k, v in part.items()})
        os.makedirs(osp.dirname(cache), exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, **feats)
        atomic_write_bytes(buf.getvalue(), cache)
    for lv, probe, fraction, seed in todo:
        if f'train_{lv}_x' not in feats:
            raise ProbeError(f'{where}: no {lv}-level features (pixel level needs '
                             '(B, D, h, w) feature maps and gt_seg_map labels)')
        res = probe_features(feats, lv, probe, fraction, seed, k, temperature)
        row = dict(n_train=res['n_train'], n_test=res['n_test'],
                   accuracy=f'{res["accuracy"]:.6f}', ci_low=f'{res["ci_low"]:.6f}',
                   ci_high=f'{res["ci_high"]:.6f}')
        row.update(model=label, config_hash=cfg_hash, checkpoint=ckpt_id,
                   dataset_hash=data_hash, feature=feat_name, precision=precision,
                   level=lv, probe=probe,
                   fraction=f'{fraction:g}', seed=seed)
        rows.append(row)
        _write_rows(csv_path, rows)
    return rows


