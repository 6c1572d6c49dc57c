"""Seeded label-fraction subsets of a split list (BigEarthNet 1 % / 10 % training).

msGFM (Han et al., CVPR 2024) fine-tunes on 1 %, 10 % and 100 % of the BigEarthNet
training split (Tables 3, 5, 6, 12) and on 1 % of SEN12MS-CR (Fig. 4, Table 9); no
list of the subsets was published. This tool samples them from a split file with one
sample per line (the BigEarthNet split CSVs ``<S2 patch>[,<S1 patch>]``, or a
SEN12MS patch list)::

    python tools/dataset_converters/sample_fraction.py \
        data/bigearthnet/splits/train.csv --fractions 0.01 0.1

writes ``train_1pct.csv`` and ``train_10pct.csv`` next to the input (``--out-dir``
elsewhere), the names the msGFM BigEarthNet configs read. The non-empty lines are
permuted once by a generator seeded with ``--seed`` (default 0) and each subset takes
the first ``max(1, round(fraction * n))`` of that permutation, written in the input's
order: the same seed gives the same lists everywhere and the subsets are nested (the
1 % list is part of the 10 % one).
"""
import argparse
import os
import os.path as osp

import numpy as np

__all__ = ['sample_fraction', 'fraction_name', 'main']


def fraction_name(path, fraction):
    """``train.csv``, 0.01 -> ``train_1pct.csv`` (``0.5pct`` for 0.005)."""
    stem, ext = osp.splitext(osp.basename(path))
    pct = f'{fraction * 100:g}'
    return f'{stem}_{pct}pct{ext}'


def sample_fraction(lines, fraction, seed=0):
    """The seeded ``fraction`` of ``lines`` (non-empty ones), in their order."""
    if not 0 < fraction <= 1:
        raise ValueError(f'sample_fraction: fraction must be in (0, 1], got {fraction}')
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise ValueError('sample_fraction: the split has no samples')
    order = np.random.default_rng(seed).permutation(len(lines))
    k = max(1, int(round(fraction * len(lines))))
    return [lines[i] for i in sorted(order[:k])]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('split', help='split file, one sample per line')
    parser.add_argument(
        '--fractions',
        type=float,
        nargs='+',
        default=[0.01, 0.1],
        help='fractions to sample (default 0.01 0.1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', help='default: the folder of the split')
    args = parser.parse_args(argv)
    with open(args.split, encoding='utf-8') as f:
        lines = [line.rstrip('\n') for line in f]
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.split))
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for fraction in args.fractions:
        subset = sample_fraction(lines, fraction, args.seed)
        out = osp.join(out_dir, fraction_name(args.split, fraction))
        with open(out, 'w', encoding='utf-8') as f:
            f.write(''.join(line + '\n' for line in subset))
        written[fraction] = (out, len(subset))
        print(f'{out}: {len(subset)} of {sum(1 for l in lines if l.strip())}')
    return written


if __name__ == '__main__':
    main()
