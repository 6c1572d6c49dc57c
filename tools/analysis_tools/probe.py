"""Frozen-encoder evaluation of a checkpoint: k-NN and linear probes at label fractions.

Features are extracted once (cached next to the CSV), then every (level, probe,
fraction, seed) not yet in the CSV is run; see :mod:`eofm.apis.probe`. Compare a
pretrained checkpoint with the random initialisation of the same architecture by
running both into the same CSV::

    python tools/analysis_tools/probe.py CONFIG work_dirs/demo/iter_150.pth \\
        --dataset configs/_base_/datasets/eofm_sample.py --data-root data/sample \\
        --out work_dirs/demo/probe.csv --label pretrained
    python tools/analysis_tools/probe.py CONFIG --random-init \\
        --dataset configs/_base_/datasets/eofm_sample.py --data-root data/sample \\
        --out work_dirs/demo/probe.csv --label random --plot work_dirs/demo/probe.png
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import eofm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='the model config')
    p.add_argument('checkpoint', nargs='?', help='its weights (leave out with --random-init)')
    p.add_argument('--random-init', action='store_true',
                   help='the baseline: the architecture with its initialisation scheme')
    p.add_argument('--init-seed', type=int, default=0, help='seed of the initialisation')
    p.add_argument('--dataset', required=True,
                   help='config with train_dataloader / val_dataloader datasets')
    p.add_argument('--data-root', help='data_root of every dataset of --dataset')
    p.add_argument('--out', required=True, help='results CSV (created or extended)')
    p.add_argument('--label', help="the model's name in the CSV and plot")
    p.add_argument('--fractions', type=float, nargs='+', default=[0.01, 0.05, 0.1, 1.0],
                   help='label fractions of the training split (0-1]')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--levels', nargs='+', default=['tile', 'pixel'],
                   choices=['tile', 'pixel'])
    p.add_argument('--probes', nargs='+', default=['knn', 'linear'],
                   choices=['knn', 'linear'])
    p.add_argument('--k', type=int, default=20, help='neighbours of the k-NN probe')
    p.add_argument('--feature',
                   help="a named feature map of the model instead of its default "
                   "features (SkySense: fused, fused_mm, hr, s2, s1), for ablations")
    prec = p.add_mutually_exclusive_group()
    prec.add_argument('--precision', choices=['fp32', 'auto', 'bf16', 'fp16'],
                      default='fp32',
                      help='of the feature extraction (default fp32; auto: bf16 on a '
                      'CPU with bf16 matrix units); a column of the CSV')
    prec.add_argument('--amp', action='store_const', const='bf16', dest='precision',
                      help='bf16 autocast (the same as --precision bf16)')
    p.add_argument('--pixels-per-tile', type=int, default=256)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--device', default='cpu')
    p.add_argument('--plot', help='PNG of accuracy against label fraction')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override settings of the model config')
    args = p.parse_args(argv)
    if bool(args.checkpoint) == bool(args.random_init):
        p.error('give a CHECKPOINT or --random-init (one of them)')
    return args


def main(argv=None):
    from eofm.apis.probe import ProbeError, plot_probe_results, run_probe, summarize
    args = parse_args(argv)
    try:
        rows = run_probe(
            args.config, None if args.random_init else args.checkpoint, args.dataset,
            args.out, label=args.label, fractions=args.fractions, seeds=args.seeds,
            levels=args.levels, probes=args.probes, k=args.k, init_seed=args.init_seed,
            pixels_per_tile=args.pixels_per_tile, batch_size=args.batch_size,
            device=args.device, cfg_options=args.cfg_options, data_root=args.data_root,
            feature=args.feature, precision=args.precision)
    except (ProbeError, FileNotFoundError) as e:
        sys.exit(f'probe: {e}')
    for (model, level, probe), per in sorted(summarize(rows).items()):
        cells = ', '.join(f'{f * 100:g}%: {m:.3f} [{lo:.3f}, {hi:.3f}]'
                          for f, (m, lo, hi) in per.items())
        print(f'{model:<20} {level:<6} {probe:<7} {cells}')
    if args.plot:
        print(f'plot: {plot_probe_results(rows, args.plot)}')


if __name__ == '__main__':
    main()
