"""Building a benchmark's dataset from its base config
(``configs/_base_/datasets/<name>.py``) on a fake data root, and batching its items:
shared by the per-benchmark tests of ``tests/test_datasets``."""
import os.path as osp

import numpy as np
from mmengine.config import Config

from eofm.datasets import multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers import ROOT

#: The folder of the base dataset configs (``CONFIGS + name + '.py'``).
CONFIGS = osp.join(ROOT, 'configs', '_base_', 'datasets') + osp.sep


def build_by_name(name, root, loader='train_dataloader', **overrides):
    """The dataset of ``loader`` in base config ``name`` on ``root``, and the config."""
    cfg = Config.fromfile(CONFIGS + name + '.py')
    dataset = cfg[loader].dataset
    dataset.data_root = str(root)
    dataset.update(overrides)
    return DATASETS.build(dataset), cfg


def cls_batch(ds, cfg, indices=(0, 1)):
    """Items ``indices`` of ``ds`` through the preprocessor with ``task='cls'``."""
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='cls')
    return pre(multimodal_collate([ds[i] for i in indices]))


def series_batch(ds, cfg, indices=(0, 1)):
    """Items ``indices`` of ``ds`` through the preprocessor (the config's ``normalize``
    when it has one)."""
    pre = MultiModalDataPreprocessor(
        normalize=cfg.normalize if 'normalize' in cfg else None)
    return pre(multimodal_collate([ds[i] for i in indices]))


def base_config(name):
    """The base dataset config ``name``."""
    return Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', name + '.py'))


def build_from_config(cfg, root, loader='train_dataloader', **overrides):
    """The dataset of ``loader`` in ``cfg`` on ``root``."""
    ds_cfg = cfg[loader].dataset.copy()
    ds_cfg.update(data_root=str(root), **overrides)
    return DATASETS.build(ds_cfg)


def collate_batch(cfg, items):
    """``items`` through the preprocessor with the config's ``normalize`` (if any)."""
    pre = MultiModalDataPreprocessor(normalize=cfg.get('normalize'))
    return pre(multimodal_collate(items))


def sample_ids(ds):
    return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]


def expected_labels(rows, size):
    """The expected label map of ``rows`` (value per row) after -1 -> 255."""
    values = np.resize(np.array(rows), size)
    return np.where(values < 0, 255, values)[:, None].repeat(size, axis=1)
