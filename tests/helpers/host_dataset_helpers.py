"""Benchmarks read by host classes (mmdet, mmrotate, mmseg, mmpretrain): their base
config on a fake data root, and datasets built and items fetched under the host's
default scope. Shared by the per-benchmark tests of ``tests/test_datasets``."""
import importlib
import os.path as osp

from mmengine.config import Config
from mmengine.registry import DATASETS, DefaultScope

import eofm  # noqa: F401 - compatibility fixes and eofm's registries
from tests.helpers import ROOT


def host_config(name, data_root):
    """The base config with ``data_root`` set on every dataset of its dataloaders."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', f'{name}.py'))

    def set_root(ds):
        for sub in ds.get('datasets', []):
            set_root(sub)
        if 'dataset' in ds:
            set_root(ds.dataset)
        if 'datasets' not in ds and 'dataset' not in ds:
            ds.data_root = str(data_root) + '/'

    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_root(cfg[loader].dataset)
    return cfg


def build_in_scope(ds_cfg, scope):
    importlib.import_module(f'{scope}.utils').register_all_modules(False)
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(ds_cfg)


def item_in_scope(ds, idx, scope):
    with DefaultScope.overwrite_default_scope(scope):
        return ds[idx]
