# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Annotation files for eofm from folders of your own rasters.

    python tools/dataset_converters/folder_to_annotations.py ROOT --out-dir OUT \\
        --modality s2 s2 'S2?_MSIL2A_{date}_{}_{}_{region}_*.tif' \\
        --bands s2 B2 B3 B4 B5 B6 B7 B8 B8A B11 B12 \\
        --modality s1 s1 'S1?_IW_GRDH_1SDV_{date}_*.tif' --bands s1 VV VH \\
        --modality hr hr '{region}_{band}.tif' --bands hr R G B \\
        --label gt_seg_map labels '{region}.tif' \\
        --tile-size 64 --block-size 4 --fractions 0.7 0.15 0.15 --seed 0

``--modality NAME DIR PATTERN`` (repeatable; the first is the reference unless
``--reference``): a folder under ROOT and the pattern of its file names (fields
``{date}`` / ``{date:%Y%m%d}``, ``{band}``, ``{region}``, ``{}``; ``*``, ``?``; or a
regular expression with named groups). Writes ``OUT/train.json``, ``val.json``,
``test.json`` (paths relative to OUT: use it as ``data_root``), ``summary.md`` and,
for rasters in another CRS than the reference or per-band series, VRTs under
``OUT/vrt/``. Every problem found (unreadable, not geo-referenced, wrong bands,
not overlapping the reference, ambiguous names) is listed at once and nothing is
written (no annotation file), unless ``--skip-bad`` leaves those files out. See
:mod:`eofm.datasets.folder_builder` and docs/datasets.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from eofm.datasets.folder_builder import (
    FolderBuildError,  # noqa: E402
    build_folder_annotations)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('root', help='folder that holds the modality folders')
    p.add_argument('--out-dir', required=True, help='output folder (data_root)')
    p.add_argument(
        '--modality',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'DIR', 'PATTERN'),
        help='a modality folder')
    p.add_argument(
        '--bands',
        nargs='+',
        action='append',
        default=[],
        metavar='NAME BAND',
        help='a modality and its band names, in order')
    p.add_argument(
        '--date-format',
        nargs=2,
        action='append',
        default=[],
        metavar=('NAME', 'FORMAT'),
        help="strptime format of a modality's {date} / regex dates")
    p.add_argument(
        '--label',
        nargs=3,
        action='append',
        default=[],
        metavar=('KEY', 'DIR', 'PATTERN'),
        help='label rasters (gt_seg_map, gt_change_map), one per region')
    p.add_argument('--reference', help='modality whose grid defines the samples')
    p.add_argument('--tile-size', type=int, help='windows of this many reference px')
    p.add_argument(
        '--block-size',
        type=int,
        default=4,
        help='windows per side of a split block (default 4)')
    p.add_argument(
        '--fractions',
        type=float,
        nargs=3,
        default=(0.7, 0.15, 0.15),
        metavar=('TRAIN', 'VAL', 'TEST'))
    p.add_argument('--seed', type=int, default=0, help='seed of the block hash')
    p.add_argument('--classes', nargs='+', help='class names for the metainfo')
    p.add_argument(
        '--skip-bad',
        action='store_true',
        help='leave files with problems out instead of stopping')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    modalities = {name: dict(dir=d, pattern=pat) for name, d, pat in args.modality}
    for where, items in (('--bands', args.bands), ('--date-format', args.date_format)):
        for item in items:
            if len(item) < 2 or item[0] not in modalities:
                sys.exit(f'{where} {" ".join(item)}: expected a modality of --modality '
                         f'({", ".join(modalities)}) followed by its value(s)')
    for name, *bands in args.bands:
        modalities[name]['bands'] = bands
    for name, fmt in args.date_format:
        modalities[name]['date_format'] = fmt
    labels = {key: dict(dir=d, pattern=pat) for key, d, pat in args.label}
    try:
        res = build_folder_annotations(
            args.root,
            modalities,
            args.out_dir,
            reference=args.reference,
            labels=labels,
            tile_size=args.tile_size,
            block_size=args.block_size,
            fractions=args.fractions,
            seed=args.seed,
            classes=args.classes,
            skip_bad=args.skip_bad)
    except (FolderBuildError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for split, path in res['files'].items():
        print(f'{split}: {res["counts"][split]} samples -> {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
