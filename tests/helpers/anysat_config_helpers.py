"""Shared steps of the AnySat fine-tuning / linear-probing config tests: the paper's
common setup, the CPU-size shrink and a two-iteration training run that records the
losses, the validation metrics and whether the encoder changed."""
import copy
import math

import torch
from mmengine.hooks import Hook

from tests.helpers.config_helpers import build_runner, cpu_runtime, leaf_datasets

__all__ = ['TINY_DIM', 'check_common', 'shrink', 'train']

TINY_DIM = 64  # width of AnySat 'tiny'


class _Record(Hook):

    def __init__(self):
        self.losses, self.metrics, self.backbone = [], {}, None

    def before_train(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') else \
            runner.model
        self.backbone = copy.deepcopy(model.backbone.state_dict())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


def _backbone_changed(runner, before):
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    after = model.backbone.state_dict()
    return [k for k in before if not torch.equal(before[k], after[k])]


def check_common(cfg, frozen):
    backbone = cfg.model.backbone
    assert backbone.type == 'eofm.AnySat' and backbone.arch == 'base'
    # the release file's keys have no prefix
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/AnySat.pth')
    # the paper's optimizer for every experiment
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 5e-5
    custom = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    if frozen:
        assert custom == {'backbone': dict(lr_mult=0.0, decay_mult=0.0)}
    else:
        assert not custom


def shrink(cfg, root, batch_size):
    cfg.model.backbone.arch = 'tiny'
    cfg.model.backbone.pop('init_cfg')
    cpu_runtime(cfg, root, batch_size)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for ds in leaf_datasets(cfg[name].dataset):
            for t in ds.pipeline:
                if t.type == 'eofm.TemporalSample':
                    t.lengths = {m: 3 for m in t.lengths}
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.train_cfg.max_epochs = 1


def train(cfg, frozen):
    runner = build_runner(cfg)
    record = _Record()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 2, record.losses
    assert all(math.isfinite(v) for v in record.losses), record.losses
    changed = _backbone_changed(runner, record.backbone)
    if frozen:
        assert not changed, changed
    else:
        assert changed
    return record.metrics
