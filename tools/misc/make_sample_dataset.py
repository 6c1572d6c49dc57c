"""Write eofm's sample dataset (:mod:`eofm.datasets.sample_data`): geo-referenced
multi-modal tiles in eight regions of the globe, deterministic, in seconds.

Example::

    python tools/misc/make_sample_dataset.py data/sample --num-tiles 96
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from eofm.datasets.sample_data import generate  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'out',
        nargs='?',
        default='data/sample',
        help='output folder (default: data/sample)')
    parser.add_argument('--num-tiles', type=int, default=96)
    parser.add_argument(
        '--size', type=int, default=32, help='tile size in Sentinel-2 pixels (10 m)')
    parser.add_argument(
        '--hr-factor',
        type=int,
        default=8,
        help='HR pixels per Sentinel-2 pixel along each axis')
    parser.add_argument('--val-fraction', type=float, default=0.25)
    parser.add_argument(
        '--num-val',
        type=int,
        help='validation tiles (the first ones generated; default: --val-fraction of '
        '--num-tiles); the rest are the training split')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--variant',
        default='default',
        choices=['default', 'hard'],
        help="'hard': classes told apart only by HR texture, phenology timing, SAR "
        'or region (eofm.datasets.sample_data.CLASS_SPECS)')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.num_tiles < 2 or args.size < 4 or args.hr_factor < 1:
        raise SystemExit('make_sample_dataset: need --num-tiles >= 2, --size >= 4 and '
                         '--hr-factor >= 1')
    if args.num_val is not None and not 0 <= args.num_val < args.num_tiles:
        raise SystemExit(f'make_sample_dataset: --num-val must be in [0, --num-tiles), '
                         f'got {args.num_val} of {args.num_tiles}')
    files = generate(args.out, args.num_tiles, args.size, args.hr_factor,
                     args.val_fraction, args.seed, variant=args.variant,
                     num_val=args.num_val)
    print(f'wrote {args.num_tiles} tiles to {args.out}: {", ".join(files)}')


if __name__ == '__main__':
    main()
