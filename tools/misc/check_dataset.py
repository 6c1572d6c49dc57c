"""Validate every sample of a config's datasets and report all problems at once.

Each sample goes through its split's pipeline, transform by transform; any error
(unreadable or truncated file, wrong band count, non-overlapping footprints,
unparsable date, missing modality...) is recorded with the sample and the
transform, and the check goes on. Samples whose modality is entirely nodata and
outputs with NaN or infinite values are reported too. Exit status 1 when a
problem was found.

Example::

    python tools/misc/check_dataset.py configs/_base_/datasets/pastis.py \
        --cfg-options data_root=data/pastis/ --splits train val
"""
import argparse
import copy
import json
import sys
from collections import Counter

import torch
from mmengine.config import Config, DictAction
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


def check_sample(dataset, idx):
    """Problems of one sample: a list of strings (empty when it is fine)."""
    try:
        results = copy.deepcopy(dataset.get_data_info(idx))
    except Exception as e:  # noqa: BLE001 - every problem is reported, not raised
        return [f'annotation: {type(e).__name__}: {e}']
    problems = []
    for transform in dataset.pipeline.transforms:
        name = type(transform).__name__
        if name.startswith('Pack'):
            for m in results.get('all_invalid', []):
                problems.append(f'{m}: every pixel is nodata/invalid')
        try:
            results = transform(results)
        except Exception as e:  # noqa: BLE001
            problems.append(f'{name}: {type(e).__name__}: {e}')
            return problems
        if results is None:
            problems.append(f'{name}: returned None (sample filtered out)')
            return problems
    for t in _tensors(results.get('inputs', results)):
        if t.is_floating_point() and not torch.isfinite(t).all():
            problems.append('inputs contain NaN or infinite values')
            break
    return problems


def check_dataset(dataset_cfg, max_samples=None, progress=True):
    """(number of samples checked, {index: (sample id, [problems])})."""
    from eofm.registry import DATASETS
    try:
        dataset = DATASETS.build(dataset_cfg)
    except Exception as e:  # noqa: BLE001
        return 0, {-1: ('dataset', [f'cannot build: {type(e).__name__}: {e}'])}
    n = len(dataset) if max_samples is None else min(len(dataset), max_samples)
    bar = ProgressBar(n) if progress and n else None
    found = {}
    for i in range(n):
        problems = check_sample(dataset, i)
        if problems:
            info = dataset.get_data_info(
                i) if not problems[0].startswith('annotation') else {}
            found[i] = (info.get('sample_id', info.get('img_path', str(i))), problems)
        if bar:
            bar.update()
    if bar:
        sys.stdout.write('\n')
    return n, found


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
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    report, total, bad = {}, 0, 0
    scope = cfg.get('default_scope', 'eofm')
    with DefaultScope.overwrite_default_scope(scope):
        for split in args.splits:
            loader = cfg.get(f'{split}_dataloader')
            if not loader:
                continue
            ds_cfg = copy.deepcopy(loader['dataset'])
            if args.cfg_options and 'data_root' in args.cfg_options:
                ds_cfg['data_root'] = args.cfg_options['data_root']
            print(f'checking {split} ...')
            n, found = check_dataset(ds_cfg, args.max_samples)
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
