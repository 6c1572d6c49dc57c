# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Train a model from a config of any scope (eofm, mmpretrain, mmseg, mmdet, mmrotate).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

Distributed: tools/dist_train.sh CONFIG NPROC (NCCL on GPUs, gloo on CPU processes).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import eofm  # noqa: E402,F401 - compatibility fixes and registration come first
from eofm.apis import (add_common_args, build_runner, load_config,  # noqa: E402
                        merge_train_args, set_local_rank)
from eofm.utils.dist import finish_cpu_distributed  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='if a checkpoint is given, resume from it; without a value, resume from '
        'the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 AMP on a GPU, bf16 autocast on a CPU with bf16 '
        'matrix units (AMX, AVX512-BF16); ignored with a warning on other CPUs')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    add_common_args(parser)
    args = parser.parse_args(argv)
    set_local_rank(args)
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    merge_train_args(cfg, args)
    runner = build_runner(cfg)
    runner.train()
    finish_cpu_distributed()


if __name__ == '__main__':
    main()
