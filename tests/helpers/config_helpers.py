"""Shared steps of the config tests: load a config as ``tools/train.py`` does, find
its leaf datasets, point them at fake data and shrink the model to CPU size.

The config tests build each shipped task config from the registries, swap the paper's
SkySense-H encoder for the 'skysense-tiny' preset (channels [32, 64, 128, 256]), write
a tiny fake of the dataset's official layout and run two training iterations and one
evaluation through ``eofm.apis.runner_setup.build_runner`` (the code path of
``tools/train.py``).
"""
import math
import os.path as osp
from types import SimpleNamespace

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from eofm.apis.runner_setup import build_runner, load_config, merge_train_args
from eofm.datasets import leaf_dataset_cfgs
from tests.helpers import ROOT

__all__ = [
    'ROOT', 'TINY_CHANNELS', 'load_train_config', 'leaf_datasets', 'shrink_common',
    'cpu_runtime', 'set_scale', 'assert_finite', 'build_runner', 'LossRecorder',
    'pretrain_losses'
]

# Output channels of the 'skysense-tiny' Swin V2 stages
TINY_CHANNELS = [32, 64, 128, 256]


def load_train_config(config, work_dir, amp=False):
    """The config after tools/train.py's argument handling (no flags but ``--amp``)."""
    path = osp.join(ROOT, config)
    cfg = load_config(path)
    args = SimpleNamespace(
        config=path,
        launcher='none',
        work_dir=str(work_dir),
        amp=amp,
        auto_scale_lr=False,
        resume=None,
        no_validate=False)
    return merge_train_args(cfg, args)


def leaf_datasets(ds):
    """The leaf dataset configs of a (possibly concatenated / wrapped) dataset."""
    return [leaf for _, leaf in leaf_dataset_cfgs(ds)]


def shrink_common(cfg, data_root, backbone=None):
    """Point the loaders at ``data_root`` (0 workers), log every iteration, seed.

    ``backbone``: the config node of the paper's SkySense Swin V2-H encoder (default
    ``cfg.model.backbone``); it is checked to be the 'huge' arch loading the release
    weights under ``backbone.`` and switched to 'skysense-tiny' without weights.
    """
    backbone = cfg.model.backbone if backbone is None else backbone
    assert backbone.type == 'eofm.SkySenseSwinV2'
    assert backbone.arch == 'huge'
    assert backbone.init_cfg.prefix == 'backbone'
    backbone.arch = 'skysense-tiny'
    backbone.drop_path_rate = 0.0
    backbone.pop('init_cfg')
    constructor = cfg.optim_wrapper.get('constructor')
    if constructor is not None:
        assert OPTIM_WRAPPER_CONSTRUCTORS.get(constructor) is not None
    return cpu_runtime(cfg, data_root)


def cpu_runtime(cfg, data_root, batch_size=None):
    """Run ``cfg`` in this process on fake data: every loader (those the config has)
    with 0 workers, its leaf datasets under ``data_root`` (a path, or a dict of loader
    name -> path), optionally ``batch_size``; log every iteration, seed 0, gloo."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        loader.num_workers = 0
        loader.persistent_workers = False
        if batch_size is not None:
            loader.batch_size = batch_size
        root = data_root[name] if isinstance(data_root, dict) else data_root
        for ds in leaf_datasets(loader.dataset):
            ds.data_root = str(root) + '/'
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def set_scale(pipeline, scale):
    """Set the output size of the resize / crop steps of a pipeline."""
    for t in pipeline:
        if t['type'] in ('RandomResize', 'Resize', 'mmdet.Resize'):
            t['scale'] = scale
        if t['type'] in ('RandomCrop', 'mmdet.RandomCrop'):
            t['crop_size'] = scale


def assert_finite(metrics, key):
    assert key in metrics, metrics
    assert math.isfinite(metrics[key]), metrics


class LossRecorder(Hook):
    """Records the total training loss of every iteration."""

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss']))


def pretrain_losses(cfg, data_root, iters):
    """Run a CPU pretraining config for ``iters`` iterations on the data under
    ``data_root`` (short warmup, seeded, checkpoint at the end); returns the losses."""
    cfg.train_dataloader.dataset.data_root = str(data_root) + '/'
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)
    ]
    cfg.default_hooks.checkpoint.interval = iters
    cfg.randomness = dict(seed=0)
    runner = build_runner(cfg)
    recorder = LossRecorder()
    runner.register_hook(recorder)
    runner.train()
    losses = np.array(recorder.losses)
    assert len(losses) == iters and np.isfinite(losses).all(), losses
    return losses, runner
