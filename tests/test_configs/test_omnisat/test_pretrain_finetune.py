"""The OmniSat configs keep the paper's / reference's setup and run on CPU through the
code path of tools/train.py: the pretraining and fine-tuning configs on a tiny fake
TreeSatAI-TS (two training iterations, the fine-tuning ones with an evaluation), the
CPU pretraining config on generated sample data with the loss going down."""
import math
import shutil

import pytest
from mmengine.hooks import Hook

from tests.helpers.config_helpers import (build_runner, cpu_runtime, load_train_config,
                            pretrain_losses)
from tests.helpers.fake_data.treesatai import make_treesatai
from eofm.datasets.sample_data import generate

CFG = 'configs/omnisat/omnisat-{}.py'
# CPU size of the encoder: 6 x 6 patches of 10 m as the paper, d = 32, one block
TINY = dict(
    embed_dim=32, depth=1, num_heads=4, mlp_ratio=2.0, patch_size=10.0, tile_size=60.0)
FINETUNE = {
    'mm_linear_3xb128-200e_treesatai-ts-60m': (('aerial', 's2', 's1_asc'), None),
    'mm_linear_3xb128-200e_treesatai-ts-10pct-60m':
    (('aerial', 's2', 's1_asc'), 'train_filenames_10pct.lst'),
    'mm_linear_3xb128-200e_treesatai-ts-20pct-60m':
    (('aerial', 's2', 's1_asc'), 'train_filenames_20pct.lst'),
    's2_linear_3xb128-200e_treesatai-ts-60m': (('s2', ), None),
    's1_linear_3xb128-200e_treesatai-ts-60m': (('s1_asc', ), None),
    'aerial_linear_3xb128-200e_treesatai-ts-60m': (('aerial', ), None),
}


class _Record(Hook):

    def __init__(self):
        self.losses, self.metrics = [], {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss']))

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


@pytest.fixture(scope='module')
def fake_tsai_ts(tmp_path_factory):
    root = tmp_path_factory.mktemp('treesatai_ts')
    make_treesatai(root, time_series=True)
    for pct in (10, 20):
        shutil.copy(root / 'train_filenames.lst',
                    root / f'train_filenames_{pct}pct.lst')
    return root


@pytest.mark.parametrize('name', list(FINETUNE))
def test_treesatai_ts_finetuning_configs(name, fake_tsai_ts, tmp_path):
    modalities, split_file = FINETUNE[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    model = cfg.model
    # the reference's fine-tuning: linear layer on the tile token, BCE, Adam 2e-4
    assert model.type == 'ImageClassifier'
    assert model.backbone.type == 'eofm.OmniSat'
    assert model.backbone.arch == 'treesatai_ts'
    assert tuple(model.backbone.modalities) == modalities
    assert model.backbone.init_cfg.prefix == 'backbone.'
    assert model.neck == dict(type='eofm.TokensToMap', out_type='pooled', pool='tile')
    assert model.head.type == 'MultiLabelLinearClsHead'
    assert model.head.num_classes == 15 and model.head.in_channels == 256
    assert model.head.loss.use_sigmoid
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=2e-4)
    assert model.data_preprocessor.task == 'cls'
    train_ds = cfg.train_dataloader.dataset
    assert train_ds.type == 'eofm.TreeSatAITS' and not train_ds.with_species
    assert train_ds.get('split_file') == split_file
    assert cfg.train_dataloader.batch_size == 128
    packed = cfg.train_dataloader.dataset.pipeline[-1]
    assert tuple(packed.modalities) == modalities
    # CPU size
    model.backbone.arch = dict(TINY)
    model.backbone.pop('init_cfg')
    model.head.in_channels = TINY['embed_dim']
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        for t in loader.dataset.pipeline:
            if t.type == 'eofm.TemporalSample':
                t.lengths = {m: 4 for m in t.lengths}
    cpu_runtime(cfg, fake_tsai_ts, batch_size=2)
    cfg.train_cfg.max_epochs = 1
    runner = build_runner(cfg)
    record = _Record()
    runner.register_hook(record)
    runner.train()
    # 3 labelled training tiles (the 'Cleared' one has no genus above 0.07)
    assert len(record.losses) == 2
    assert all(math.isfinite(v) for v in record.losses)
    for key in ('multi-label/f1-score_weighted', 'multi-label/f1-score',
                'multi-label/f1-score_micro', 'multi-label/mAP'):
        assert key in record.metrics and math.isfinite(record.metrics[key]), (
            record.metrics)


def test_treesatai_ts_pretraining_config(fake_tsai_ts, tmp_path):
    from eofm.models.common import empty_weights
    from eofm.registry import MODELS
    cfg = load_train_config(
        CFG.format('pretrain_3xb128-250e_treesatai-ts-60m'), tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.OmniSatPretrainer'
    assert model.backbone.arch == 'treesatai_ts'
    assert tuple(model.backbone.modalities) == ('aerial', 's2', 's1_asc')
    assert model.mask_ratio == 0.75 and model.date_threshold == 0.25
    assert model.contrastive == dict(type='eofm.MILNCELoss', tau=0.1)
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    assert cfg.train_cfg.max_epochs == 250
    with empty_weights():
        net = MODELS.build(model)
    assert sum(p.numel() for p in net.backbone.parameters()) == 9_839_040
    assert sum(p.numel() for p in net.parameters()) == 11_808_976
    model.backbone.arch = dict(TINY)
    cfg.train_dataloader.dataset.pipeline[1].lengths = dict(s2=4, s1_asc=3)
    cpu_runtime(cfg, fake_tsai_ts, batch_size=2)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.log_processor = dict(by_epoch=False)
    runner = build_runner(cfg)
    record = _Record()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 2 and all(math.isfinite(v) for v in record.losses)


def test_cpu_pretraining_on_sample_data_loss_goes_down(tmp_path):
    root = tmp_path / 'sample'
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    cfg = load_train_config(
        CFG.format('pretrain_small_1xb4-100it_eofm-sample-60m'), tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.OmniSatPretrainer'
    assert tuple(model.backbone.modalities) == ('hr', 's2', 's1')
    assert model.backbone.arch.embed_dim == 64
    # 10 m patches of 32 HR px (0.3125 m): what the aerial projector needs
    assert model.backbone.modality_cfgs.hr.gsd == 0.3125
    assert cfg.train_dataloader.dataset.pipeline[3].size == 192
    assert cfg.train_cfg.max_iters == 100
    # the config's model, 2 tiles a batch, 20 iterations
    cfg.train_dataloader.batch_size = 2
    losses, _ = pretrain_losses(cfg, root, 20)
    assert losses[-5:].mean() < 0.9 * losses[:5].mean(), losses
