# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Test (evaluate) a checkpoint with a config of any scope.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
        [--show] [--show-dir DIR] [--cfg-options k=v ...] [--launcher ...]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import eofm  # noqa: E402,F401 - compatibility fixes and registration come first
from eofm.apis import (add_common_args, build_runner, load_config,  # noqa: E402
                        merge_test_args, set_local_rank)
from eofm.utils.dist import finish_cpu_distributed  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation '
        'metrics')
    parser.add_argument(
        '--out', type=str, help='dump predictions to a pickle file (.pkl)')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results in a window')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; relative paths are '
        'under work_dir/timestamp/')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test time augmentation (tta_model and '
        'tta_pipeline of the config)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision inference: fp16 autocast on a GPU, bf16 on a CPU with '
        'bf16 matrix units (AMX, AVX512-BF16); ignored with a warning on other CPUs')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args)
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    merge_test_args(cfg, args)
    runner = build_runner(cfg)
    metrics = runner.test()
    finish_cpu_distributed()
    return metrics


if __name__ == '__main__':
    main()
