"""Seeded train/test split lists for AID and NWPU-RESISC45 (mmpretrain CustomDataset).

Input, the official folder-per-class layout::

    AID/Airport/airport_1.jpg ...                  (30 class folders)
    NWPU-RESISC45/airplane/airplane_001.jpg ...    (45 class folders)

Output, one folder per training ratio of the usual protocols (AID: 20 % and 50 %,
NWPU-RESISC45: 10 % and 20 % of each class for training, the rest for testing)::

    <out-dir>/tr20/train.txt     Airport/airport_17.jpg 0
    <out-dir>/tr20/test.txt      ...

Lines are ``<path relative to the class-folder root> <label>``, the ``ann_file`` format
of mmpretrain's ``CustomDataset``; labels are the class indices of ``eofm.AID`` /
``eofm.NWPURESISC45``. Each class is shuffled once with a generator seeded by
``(seed, class index)`` and its first ``round(ratio * n)`` images train, so the same
seed gives the same lists on every machine and the splits are nested (the 20 % train
list is part of the 50 % one).
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.utils import mkdir_or_exist, track_parallel_progress, track_progress

DEFAULT_RATIOS = dict(aid=(0.2, 0.5), nwpu_resisc45=(0.1, 0.2))
IMG_EXTS = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp')


def dataset_classes(dataset):
    """Class names of ``'aid'`` or ``'nwpu_resisc45'`` (those of the eofm datasets)."""
    from eofm.datasets.scene_classification import AID_CLASSES, NWPU_RESISC45_CLASSES
    classes = dict(aid=AID_CLASSES, nwpu_resisc45=NWPU_RESISC45_CLASSES)
    if dataset not in classes:
        raise ValueError(f'scene_splits: unknown dataset "{dataset}", expected one of '
                         f'{sorted(classes)}.')
    return classes[dataset]


def scan_classes(src, classes):
    """{class index: sorted image paths relative to ``src``}; checks the layout."""
    from eofm.datasets.scene_classification import class_key
    if not osp.isdir(src):
        raise FileNotFoundError(f'scene_splits: "{src}" is not a folder; expected one '
                                f'folder per class there (e.g. "{src}/{classes[0]}/").')
    index = {class_key(c): i for i, c in enumerate(classes)}
    folders = sorted(d for d in os.listdir(src) if osp.isdir(osp.join(src, d)))
    unknown = [f for f in folders if class_key(f) not in index]
    found = {class_key(f): f for f in folders if class_key(f) in index}
    missing = [c for c in classes if class_key(c) not in found]
    if unknown or missing:
        raise FileNotFoundError(
            f'scene_splits: the class folders under "{src}" do not match the '
            f'{len(classes)} classes: unknown folders {unknown[:5]}, missing classes '
            f'{missing[:5]}.')
    files = {}
    for key, folder in found.items():
        names = []
        for root, _, fnames in os.walk(osp.join(src, folder)):
            names += [
                osp.relpath(osp.join(root, n), src).replace(os.sep, '/') for n in fnames
                if n.lower().endswith(IMG_EXTS)
            ]
        if not names:
            raise FileNotFoundError(
                f'scene_splits: the class folder "{osp.join(src, folder)}" holds no '
                f'image ({", ".join(IMG_EXTS)}).')
        files[index[key]] = sorted(names)
    return files


def split_lists(files, ratio, seed=0):
    """(train lines, test lines) taking ``round(ratio * n)`` images of each class."""
    if not 0 < ratio < 1:
        raise ValueError(f'scene_splits: train ratio {ratio} must be in (0, 1).')
    train, test = [], []
    for label in sorted(files):
        names = files[label]
        order = np.random.default_rng([seed, label]).permutation(len(names))
        n_train = int(round(ratio * len(names)))
        chosen = set(order[:n_train].tolist())
        for i, name in enumerate(names):
            (train if i in chosen else test).append(f'{name} {label}')
    return train, test


def _check_image(path):
    import cv2
    return path if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None else None


def make_splits(src,
                out_dir,
                dataset='aid',
                ratios=None,
                seed=0,
                verify=False,
                nproc=1):
    """Write ``<out_dir>/tr<percent>/{train,test}.txt`` for each training ratio.

    Returns {ratio: (number of train lines, number of test lines)}.
    """
    classes = dataset_classes(dataset)
    ratios = DEFAULT_RATIOS[dataset] if ratios is None else ratios
    files = scan_classes(src, classes)
    if verify:
        paths = [osp.join(src, n) for names in files.values() for n in names]
        check = track_parallel_progress(_check_image, paths, nproc) if nproc > 1 \
            else track_progress(_check_image, paths)
        broken = [p for p in check if p is not None]
        if broken:
            raise ValueError(f'scene_splits: unreadable images: {broken[:5]}.')
    counts = {}
    for ratio in ratios:
        train, test = split_lists(files, ratio, seed)
        folder = osp.join(out_dir, f'tr{int(round(ratio * 100))}')
        mkdir_or_exist(folder)
        for name, lines in (('train', train), ('test', test)):
            with open(osp.join(folder, f'{name}.txt'), 'w') as f:
                f.write('\n'.join(lines) + '\n')
        counts[ratio] = (len(train), len(test))
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write seeded, per-class train/test split lists (mmpretrain '
        'CustomDataset ann_file format) for AID or NWPU-RESISC45.')
    parser.add_argument(
        'src',
        help='class-folder root, e.g. data/aid/AID or data/nwpu_resisc45/'
        'NWPU-RESISC45')
    parser.add_argument(
        '--dataset', required=True, choices=sorted(DEFAULT_RATIOS), help='benchmark')
    parser.add_argument(
        '-o',
        '--out-dir',
        default=None,
        help='output folder (default: splits/ next to src)')
    parser.add_argument(
        '--ratios',
        type=float,
        nargs='+',
        default=None,
        help='train fractions (default: AID 0.2 0.5, NWPU-RESISC45 0.1 0.2)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--verify', action='store_true', help='decode every image before writing')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes for --verify')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.src)), 'splits')
    try:
        counts = make_splits(args.src, out_dir, args.dataset, args.ratios, args.seed,
                             args.verify, args.nproc)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    for ratio, (n_train, n_test) in counts.items():
        print(f'train ratio {ratio}: {n_train} train, {n_test} test')
    print(f'Done: lists in {out_dir}')


if __name__ == '__main__':
    main()
