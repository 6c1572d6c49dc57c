"""The SkySense change-detection configs (BIT on LEVIR-CD, U-Net on OSCD) train,
validate and test end to end on CPU.

Each test checks the paper's setup (Table J13 (iv)) in the config as shipped, writes a
tiny fake of the dataset's official layout (OSCD: cut into patches by the converter,
as the base dataset config expects), shrinks the model to the CPU presets
('skysense-tiny' Swin V2 / ViT, no pretrained weights), runs two training iterations
and one evaluation through ``build_runner`` (the code path of ``tools/train.py``),
and finally scores a model that predicts the ground truth through the config's
evaluator: F1 must be 1.0.
"""
import math

import pytest
from mmengine.config import Config

from tests.helpers.config_helpers import (ROOT, TINY_CHANNELS, assert_finite, build_runner,
                            cpu_runtime, load_train_config, shrink_common)
from tests.helpers.fake_data.levir_cd import make_levir_cd
from tests.helpers.fake_data.oscd import make_oscd
from tools.dataset_converters import oscd as oscd_converter

LEVIR_CONFIG = 'configs/skysense/skysense-hr_bit_4xb2-200e_levir-cd-256x256.py'
OSCD_CONFIG = 'configs/skysense/skysense-s2_unet_1xb32-100e_oscd-96x96.py'
S2_10 = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']


def _types(pipeline):
    return [t['type'] for t in pipeline]


def _step(pipeline, name):
    return next(t for t in pipeline if t['type'] == name)


def _predict_ground_truth(runner):
    """Make the runner's model copy each sample's gt_change_map as its prediction."""

    def predict(inputs, data_samples=None):
        for s in data_samples:
            s.pred_change_map = s.gt_change_map.clone()
        return data_samples

    runner.model.predict = predict


def test_skysense_hr_bit_levir_cd(tmp_path):
    data_root = tmp_path / 'levir_cd'
    make_levir_cd(data_root)
    cfg = load_train_config(LEVIR_CONFIG, tmp_path / 'work')

    # Paper setup (Table J13 (iv)) kept in the config
    backbone = cfg.model.backbone
    assert backbone.out_indices == (0, 1, 2, 3)
    assert backbone.init_cfg.checkpoint == 'checkpoints/skysense_model_backbone_hr.pth'
    head = cfg.model.decode_head
    assert head.type == 'eofm.BITHead'
    assert head.in_channels == [352, 704, 1408, 2816]
    assert head.token_len == 4 and head.num_heads == 8
    assert head.enc_depth == 1 and head.dec_depth == 8
    assert head.loss_decode.type == 'mmseg.CrossEntropyLoss'
    assert not head.loss_decode.use_sigmoid
    assert cfg.model.test_cfg == dict(
        mode='slide', crop_size=(256, 256), stride=(256, 256))
    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert optim.optimizer.lr == 6e-5 and optim.optimizer.weight_decay == 0.01
    assert optim.constructor == 'eofm.LayerDecayOptimWrapperConstructor'
    assert optim.paramwise_cfg.decay_rate == 0.9
    (sched, ) = cfg.param_scheduler
    assert sched.type == 'PolyLR' and sched.power == 1.0 and sched.by_epoch
    assert sched.eta_min == 0.0 and sched.end == 200
    assert cfg.train_cfg.max_epochs == 200
    assert cfg.train_dataloader.batch_size * 4 == cfg.auto_scale_lr.base_batch_size == 8
    train_set = cfg.train_dataloader.dataset
    train_pipeline = train_set.dataset.pipeline
    assert {
        'eofm.AlignedRandomCrop', 'eofm.AlignedRandomFlip', 'eofm.RandomGaussianBlur'
    } <= set(_types(train_pipeline))
    assert _step(train_pipeline, 'eofm.AlignedRandomCrop')['size'] == (256, 256)
    assert sorted(t['key'] for t in train_pipeline
                  if t['type'] == 'eofm.RandomGaussianBlur') == ['post', 'pre']
    assert 'eofm.AlignedRandomCrop' not in _types(cfg.test_dataloader.dataset.pipeline)
    assert cfg.val_evaluator == cfg.test_evaluator == dict(
        type='eofm.ChangeDetectionMetric')

    cfg = shrink_common(cfg, data_root)
    head.in_channels = TINY_CHANNELS
    head.channels = 16
    # 16 px fake images: 8 px training crops, 2 x 2 test windows
    _step(train_pipeline, 'eofm.AlignedRandomCrop')['size'] = (8, 8)
    cfg.model.test_cfg = dict(mode='slide', crop_size=(8, 8), stride=(8, 8))
    train_set.times = 1  # 2 pairs, batch 2: one iteration per epoch
    cfg.train_cfg.max_epochs = 2
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler[0].end = 2

    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 2
    assert (tmp_path / 'work' / 'best_change_f1_epoch_2.pth').is_file()
    assert_finite(runner.test(), 'change/f1')

    _predict_ground_truth(runner)
    metrics = runner.test()
    assert metrics['change/f1'] == 1.0 and metrics['change/iou'] == 1.0


def _shrink_oscd(cfg, patch_root, city_root):
    """Loaders on the fake data; the ViT-L switched to 'skysense-tiny' (4 layers)."""
    backbone = cfg.model.backbone
    assert backbone.type == 'eofm.SkySenseViT' and backbone.arch == 'large'
    backbone.arch = 'skysense-tiny'
    backbone.num_layers = 4
    backbone.out_indices = (0, 1, 2, 3)
    backbone.pop('init_cfg')
    cfg.model.neck.in_channels = [64] * 4
    cfg.model.neck.out_channels = 16
    cfg.model.decode_head.in_channels = [16] * 4
    cfg.model.decode_head.channels = 16
    return cpu_runtime(
        cfg,
        dict(
            train_dataloader=patch_root,
            val_dataloader=city_root,
            test_dataloader=city_root))


def test_skysense_s2_unet_oscd(tmp_path):
    city_root = tmp_path / 'oscd'
    make_oscd(city_root)
    patch_root = tmp_path / 'oscd_patches'
    # 24 x 36 px fake cities -> two 24 px patches each (the second flush with the edge)
    counts = oscd_converter.convert(
        str(city_root), str(patch_root), size=24, splits=('train', ), progress=False)
    assert counts == dict(train=4)
    cfg = load_train_config(OSCD_CONFIG, tmp_path / 'work')

    # Paper setup (Table J13 (iv)) kept in the config
    backbone = cfg.model.backbone
    assert backbone.in_channels == 10 and len(backbone.out_indices) == 4
    assert backbone.init_cfg.checkpoint == 'checkpoints/skysense_model_backbone_s2.pth'
    assert backbone.init_cfg.prefix == 'backbone'
    assert cfg.model.neck.type == 'mmseg.MultiLevelNeck'
    assert len(cfg.model.neck.scales) == 4
    head = cfg.model.decode_head
    assert head.type == 'eofm.UNetChangeHead'
    assert head.loss_decode.use_sigmoid  # BCE
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(96, 96), stride=(96, 96))
    optim = cfg.optim_wrapper.optimizer
    assert (optim.type, optim.lr, optim.weight_decay) == ('Adam', 6e-4, 1e-4)
    assert [s.type for s in cfg.param_scheduler] == ['ExponentialLR']
    assert cfg.train_cfg.max_epochs == 100 and cfg.train_dataloader.batch_size == 32
    assert {'eofm.AlignedRandomFlip', 'eofm.AlignedRandomRot90'
            } <= set(_types(cfg.train_dataloader.dataset.pipeline))
    assert cfg.val_evaluator == cfg.test_evaluator == dict(
        type='eofm.ChangeDetectionMetric')
    # The 10 bands of the S2 encoder, normalised with the base config's statistics
    base = Config.fromfile(f'{ROOT}/configs/_base_/datasets/oscd.py')
    pick = [base.s2_bands.index(b) for b in S2_10]
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        load = cfg[name].dataset.pipeline[0]
        assert load.modalities.pre.bands == load.modalities.post.bands == S2_10
    for date in ('pre', 'post'):
        stats = cfg.model.data_preprocessor.normalize[date]
        for key in ('mean', 'std'):
            assert stats[key] == pytest.approx([base.s2_stats[key][i] for i in pick])

    cfg = _shrink_oscd(cfg, patch_root, city_root)
    # 24 px windows over the 24 x 36 px test city: two overlapping windows
    cfg.model.test_cfg = dict(mode='slide', crop_size=(24, 24), stride=(24, 24))
    cfg.train_dataloader.batch_size = 2  # 4 patches: two iterations in the epoch
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1

    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 2
    assert math.isclose(runner.optim_wrapper.get_lr()['lr'][0], 6e-4 * 0.95)
    assert_finite(runner.test(), 'change/f1')

    _predict_ground_truth(runner)
    metrics = runner.test()
    assert metrics['change/f1'] == 1.0 and metrics['change/iou'] == 1.0
