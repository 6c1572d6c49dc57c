"""Validate every sample of a config's datasets and report all problems at once.

Each sample goes through its split's pipeline, transform by transform; any error
(unreadable or truncated file, wrong band count, non-overlapping footprints,
unparsable date, missing modality...) is recorded with the sample and the
transform, and the check goes on. Samples whose modality is entirely nodata,
outputs with NaN or infinite values, labels outside the dataset's classes (or
the model's ``num_classes``), channels whose mean is far from the config's
normalisation statistics (data in another scaling than declared) and objects of
classes that are not in the class list (detection annotations) are reported too;
raw values that contradict a modality's ``scale``, lon / lat out of range, dates
out of range, repeated or unordered and CRSs that differ from the reference's
are errors of the loader, reported with the sample and file. A split whose dataset is a
wrapper (``ConcatDataset``, ``RepeatDataset``...) is checked dataset by dataset,
and ``--cfg-options data_root=...`` reaches every one of them. Exit status 1 when a
problem was found.

Example::

    python tools/misc/check_dataset.py configs/_base_/datasets/pastis.py \
        --cfg-options data_root=data/pastis/ --splits train val
"""
import argparse
import copy
import json
import sys
import warnings
from collections import Counter

import torch
from mmengine.config import DictAction
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

SPLITS = ('train', 'val', 'test')


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def _unknown_classes(info):
    """The annotation problem of objects whose class is not in the class list."""
    unknown = info.get('unknown_classes') if isinstance(info, dict) else None
    if not unknown:
        return []
    from eofm.datasets.detection import unknown_class_problem
    where = info.get('xml_path') or info.get('img_path') or 'annotation'
    return [f'annotation: {where}: {unknown_class_problem(unknown)}']


def _label_classes(dataset):
    if hasattr(dataset, 'label_classes'):
        return dataset.label_classes()
    return (getattr(dataset, 'metainfo', None) or {}).get('classes')


def _content_problems(dataset, results, normalize, num_classes, label_files,
                      model_ignore=None):
    """Labels against the classes, channel means against the normalisation;
    ``label_files``: label field -> the file it came from, quoted."""
    from eofm.datasets.validation import (IGNORE_INDEX, label_problems,
                                          normalization_problems)
    from eofm.structures.batch_schema import mask_key
    if not isinstance(results, dict):
        return []
    out = []
    for p in label_problems(results, _label_classes(dataset),
                            (getattr(dataset, 'ignore_index', IGNORE_INDEX),
                             model_ignore), num_classes):
        where = label_files.get(p.split(':')[0])
        out.append(f'labels: {p}' + (f' (in {where})' if where else ''))
    inputs = results.get('inputs')
    for view in inputs if isinstance(inputs, list) else [inputs]:
        if not isinstance(view, dict):
            continue
        for name, stats in (normalize or {}).items():
            if name in view:
                out += [
                    f'normalisation: {p}' for p in normalization_problems(
                        name, view[name], view.get(mask_key(name)), stats['mean'],
                        stats['std'])
                ]
        break  # the first view is enough
    return out


def check_sample(dataset, idx, normalize=None, num_classes=None, model_ignore=None):
    """Problems of one sample: a list of strings (empty when it is fine).

    ``normalize`` (modality -> dict(mean, std)), ``num_classes`` and
    ``model_ignore`` (the model's head's ``num_classes`` / ``ignore_index``) come
    from a task config, when the checked config has them.
    """
    try:
        results = copy.deepcopy(dataset.get_data_info(idx))
    except Exception as e:  # noqa: BLE001 - every problem is reported, not raised
        return [f'annotation: {type(e).__name__}: {e}']
    problems = _unknown_classes(results)
    ann = getattr(dataset, 'ann_file', '') or 'the annotations'
    label_files = dict(gt_label=ann, gt_labels=ann)
    for key, desc in ((results.get('label_maps') or {}) if isinstance(results, dict)
                      else {}).items():
        if isinstance(desc, dict) and desc.get('path'):
            label_files[key] = desc['path']
    for transform in dataset.pipeline.transforms:
        name = type(transform).__name__
        if name.startswith('Pack'):
            for m in results.get('all_invalid', []):
                problems.append(f'{m}: every pixel is nodata/invalid')
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                results = transform(results)
        except Exception as e:  # noqa: BLE001
            problems.append(f'{name}: {type(e).__name__}: {e}')
            return problems
        # the loader's warnings about the sample (dates sorted...) are problems too
        problems += [f'{name}: warning: {w.message}' for w in caught
                     if str(w.message).startswith('sample ')]
        if results is None:
            problems.append(f'{name}: returned None (sample filtered out)')
            return problems
    for t in _tensors(results.get('inputs', results)):
        if t.is_floating_point() and not torch.isfinite(t).all():
            problems.append('inputs contain NaN or infinite values')
            break
    return problems + _content_problems(dataset, results, normalize, num_classes,
                                        label_files, model_ignore)


def _sample_name(dataset, i):
    try:
        info = dataset.get_data_info(i)
    except Exception:  # noqa: BLE001 - its problem is already in the report
        return str(i)
    return str(info.get('sample_id', info.get('img_path', i)))


def _build_problems(e, name, key):
    """Report entries of a dataset that cannot be built, under negative ``key``s;
    a dataset error that lists per-file problems (``file_problems``: {file:
    [problems]}) gives one entry per file."""
    out = {key: (name, [f'cannot build: {type(e).__name__}: {e}'])}
    for i, (path, problems) in enumerate(sorted((getattr(e, 'file_problems', None)
                                                 or {}).items())):
        out[key - 1 - i] = (path, list(problems))
    return out


def config_expectations(cfg):
    """(normalize, num_classes, ignore_index) a config declares for its data: the
    model's data preprocessor's (else the top-level ``normalize`` of a dataset
    config), the ``num_classes`` and ``ignore_index`` of its (decode) head; None
    where it has none."""
    model = cfg.get('model') or {}
    normalize = ((model.get('data_preprocessor') or {}).get('normalize')
                 or cfg.get('normalize'))
    num_classes = ignore = None
    for head in ('decode_head', 'head'):
        n = (model.get(head) or {}).get('num_classes')
        if isinstance(n, int):
            num_classes = n
            v = (model.get(head) or {}).get('ignore_index')
            ignore = v if isinstance(v, int) else None
            break
    if not (isinstance(normalize, dict)
            and all(isinstance(v, dict) and 'mean' in v for v in normalize.values())):
        normalize = None
    return normalize, num_classes, ignore


def check_dataset(dataset_cfg, max_samples=None, progress=True, normalize=None,
                  num_classes=None, model_ignore=None):
    """(number of samples checked, {index: (sample id, [problems])}).

    A wrapper config (``ConcatDataset``, ``RepeatDataset``...) is checked dataset by
    dataset: each one inside it is built and checked on its own (one that cannot be
    built does not hide the others; a repeated one is checked once). The index of a
    sample counts the wrapped datasets one after the other; its name says which
    wrapped dataset it is in. Datasets that cannot be built get negative indices.
    """
    from eofm.datasets import leaf_dataset_cfgs
    from eofm.registry import DATASETS
    found, offset, checked, failed = {}, 0, 0, -1
    built = []
    for label, cfg in leaf_dataset_cfgs(dataset_cfg):
        try:
            built.append((label, DATASETS.build(cfg)))
        except Exception as e:  # noqa: BLE001 - every problem is reported
            problems = _build_problems(e, label or 'dataset', failed)
            found.update(problems)
            failed -= len(problems)
    total = sum(len(d) for _, d in built)
    total = total if max_samples is None else min(total, max_samples)
    bar = ProgressBar(total) if progress and total else None
    for label, leaf in built:
        for i in range(min(len(leaf), total - checked)):
            problems = check_sample(leaf, i, normalize, num_classes, model_ignore)
            if problems:
                name = _sample_name(leaf, i)
                found[offset + i] = (f'{label}: {name}' if label else name, problems)
            checked += 1
            if bar:
                bar.update()
        offset += len(leaf)
    if bar:
        sys.stdout.write('\n')
    return checked, found


def parse_args():
    parser = argparse.ArgumentParser(
        description='Validate every sample of the datasets of a config')
    parser.add_argument('config', help='config file (a task or a dataset config)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS)
    parser.add_argument(
        '--max-samples',
        type=int,
        default=None,
        help='check at most this many samples per split')
    parser.add_argument('--out', help='also write the report as JSON to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. data_root=data/pastis/ (a top-level '
        'data_root is applied to every split)')
    return parser.parse_args()


def main():
    args = parse_args()
    import eofm  # noqa: F401 - registers eofm and applies compatibility fixes
    from eofm.datasets import override_dataset_cfg
    from eofm.apis.runner_setup import load_config
    cfg = load_config(args.config, args.cfg_options)
    normalize, num_classes, model_ignore = config_expectations(cfg)
    report, total, bad = {}, 0, 0
    scope = cfg.get('default_scope', 'eofm')
    with DefaultScope.overwrite_default_scope(scope):
        for split in args.splits:
            loader = cfg.get(f'{split}_dataloader')
            if not loader:
                continue
            ds_cfg = override_dataset_cfg(
                loader['dataset'],
                data_root=(args.cfg_options or {}).get('data_root'))
            print(f'checking {split} ...')
            n, found = check_dataset(ds_cfg, args.max_samples, normalize=normalize,
                                     num_classes=num_classes, model_ignore=model_ignore)
            total += n
            bad += len(found)
            report[split] = {
                str(i): dict(sample=s, problems=p)
                for i, (s, p) in found.items()
            }
    kinds = Counter(
        p.split(':')[0] for split in report.values() for entry in split.values()
        for p in entry['problems'])
    for split, entries in report.items():
        for i, entry in entries.items():
            for p in entry['problems']:
                print(f'[{split} #{i} {entry["sample"]}] {p}')
    print(f'{total} samples checked, {bad} with problems' +
          (f' ({", ".join(f"{k}: {v}" for k, v in kinds.most_common())})'
           if kinds else ''))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(
                dict(checked=total, with_problems=bad, report=report), f, indent=1)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
