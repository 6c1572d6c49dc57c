"""Pool the per-fold results of a cross-validation (PASTIS's five official folds).

Each run of the 5-fold protocol (train on three folds, validate on one, test on the
fifth; SkySense Table 6, PASTIS-MM OA) writes the confusion matrices of its test fold
with ``eofm.FoldAccuracyMetric(out_file=...)``. This tool adds them up and prints
the overall accuracy over all folds, the mean and spread of the per-fold OA, and the
pooled mIoU::

    python tools/analysis_tools/merge_fold_results.py \\
        work_dirs/pastis_fold{1,2,3,4,5}/fold_confusion.json [--out results.json]

A fold present in two files is an error (the same fold tested twice), as are files
with different numbers of classes.
"""
import argparse
import json
import sys

import numpy as np

from eofm.evaluation.metrics import fold_scores


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files', nargs='+', help='fold_confusion.json of each run')
    parser.add_argument('--out', help='write the pooled scores to this JSON file')
    return parser.parse_args(argv)


def merge(files):
    """``{fold: confusion}`` from the runs' files (checked for overlaps and sizes)."""
    confusions, num_classes, where = {}, None, {}
    for path in files:
        try:
            with open(path) as f:
                payload = json.load(f)
            k, folds = int(payload['num_classes']), payload['confusions']
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise SystemExit(f'{path}: not a FoldAccuracyMetric result file ({e})')
        if num_classes is not None and k != num_classes:
            raise SystemExit(f'{path}: {k} classes, {where[next(iter(where))]} has '
                             f'{num_classes}')
        num_classes = k
        for fold, cm in folds.items():
            if fold in confusions:
                raise SystemExit(f'{path}: fold {fold} is also in {where[fold]}')
            cm = np.asarray(cm, dtype=np.int64)
            if cm.shape != (k, k):
                raise SystemExit(f'{path}: fold {fold} confusion is {cm.shape}, '
                                 f'expected ({k}, {k})')
            confusions[fold], where[fold] = cm, path
    return confusions


def main(argv=None):
    args = parse_args(argv)
    confusions = merge(args.files)
    scores = fold_scores(confusions)
    per_fold = [scores[f'fold{f}/OA'] for f in sorted(confusions, key=str)]
    scores['std_fold_OA'] = float(np.std(per_fold))
    for fold in sorted(confusions, key=str):
        print(f'fold {fold}: OA {scores[f"fold{fold}/OA"]:.2f}')
    print(f'all {len(confusions)} folds: OA {scores["OA"]:.2f}, mean fold OA '
          f'{scores["mean_fold_OA"]:.2f} +- {scores["std_fold_OA"]:.2f}, '
          f'mIoU {scores["mIoU"]:.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(scores, f, indent=2)
    return scores


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
