"""The SkySense segmentation configs on eofm's multi-modal datasets and on Potsdam
train, validate and test end to end on CPU (tiny presets, fake data in the official
layouts), and their evaluators compute the papers' scores."""
import numpy as np
import pytest
from PIL import Image

from tests.helpers.config_helpers import (TINY_CHANNELS, assert_finite, build_runner, cpu_runtime,
                            load_train_config, set_scale)
from tests.helpers.fake_data.dynamic_earthnet import make_dynamic_earthnet

CFG = 'configs/skysense/'
DEN_PLA = CFG + 'skysense-hr_upernet_4xb2-8k_dynamicearthnet-planet-1024x1024.py'
DEN_S2 = CFG + 'skysense-s2_upernet_4xb2-80k_dynamicearthnet-s2-256x256.py'
DEN_SCS = CFG + 'skysense-s2_upernet_4xb2-80k_dynamicearthnet-s2-scs-256x256.py'
DEN_MM = CFG + 'skysense_upernet_4xb2-6k_dynamicearthnet-mm-1024x1024.py'
DEN_MM_GEO = CFG + 'skysense-geo_upernet_4xb2-6k_dynamicearthnet-mm-1024x1024.py'
POTSDAM = CFG + 'skysense-hr_upernet_8xb2-80k_potsdam-512x512.py'
PASTIS_MM = CFG + 'skysense_fcn_4xb2-20k_pastis-mm-128x128.py'
# The fake DynamicEarthNet's Sentinel-1 rasters have 8 unnamed bands.
FAKE_S1_BANDS = ['VV', 'VH', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']


def _runtime(cfg, data_root, iters=2):
    cpu_runtime(cfg, data_root)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].batch_size = min(cfg[name].batch_size, 2)
    # full batches only: the pooling module's BN needs more than one value
    cfg.train_dataloader.drop_last = True
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1),
        dict(type='PolyLR', power=1.0, by_epoch=False, begin=1, end=iters)
    ]
    return cfg


def _tiny_heads(cfg, in_channels):
    cfg.model.decode_head.in_channels = in_channels
    cfg.model.decode_head.channels = 16
    cfg.model.auxiliary_head.in_channels = in_channels[2]
    cfg.model.auxiliary_head.channels = 8


def _paper_schedule(cfg, iters, warmup, lr=6e-5, batch=8, gpus=None):
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.01
    assert cfg.optim_wrapper.constructor == 'eofm.LayerDecayOptimWrapperConstructor'
    assert cfg.train_cfg.max_iters == iters
    assert cfg.param_scheduler[0].end == cfg.param_scheduler[1].begin == warmup
    assert cfg.param_scheduler[0].start_factor == 1e-6
    assert cfg.auto_scale_lr.base_batch_size == batch


@pytest.fixture(scope='module')
def den_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('den')
    make_dynamic_earthnet(root, size=64)
    return root


def _den_shrink(cfg, root):
    _runtime(cfg, root)
    backbone = cfg.model.backbone
    assert backbone.type == 'eofm.SkySense' and backbone.arch == 'huge'
    backbone.arch = 'tiny'
    for part in ('hr', 's2', 's1'):
        if part in backbone:
            backbone[part].pop('init_cfg', None)
            backbone[part].drop_path_rate = 0.0
    backbone.pop('init_cfg', None)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.s1_bands = FAKE_S1_BANDS
    return cfg


def test_dynamicearthnet_planet_upernet(den_root, tmp_path):
    cfg = load_train_config(DEN_PLA, tmp_path / 'work')
    _paper_schedule(cfg, 8000, 1500)
    assert cfg.model.backbone.hr.in_channels == 4
    assert cfg.model.backbone.hr.drop_path_rate == 0.3
    assert cfg.model.backbone.hr.init_cfg.prefix == 'backbone'
    assert cfg.train_dataloader.dataset.pipeline[4].size == (1024, 1024)
    _den_shrink(cfg, den_root)
    _tiny_heads(cfg, TINY_CHANNELS)
    cfg.train_dataloader.dataset.pipeline[4].size = (64, 64)
    runner = build_runner(cfg)
    runner.train()
    assert_finite(runner.test(), 'mIoU')


@pytest.mark.parametrize('config', [DEN_S2, DEN_SCS])
def test_dynamicearthnet_s2_upernet_and_scs(config, den_root, tmp_path):
    cfg = load_train_config(config, tmp_path / 'work')
    _paper_schedule(cfg, 80000, 1500)
    assert cfg.model.backbone.modalities == ('s2', )
    assert cfg.model.backbone.s2.out_indices == (5, 11, 17, 23)
    assert cfg.model.test_cfg.mode == 'slide'
    assert cfg.model.test_cfg.crop_size == (256, 256)
    _den_shrink(cfg, den_root)
    # tiny ViT (64 channels) with 4 layers
    cfg.model.backbone.s2.num_layers = 4
    cfg.model.backbone.s2.out_indices = (0, 1, 2, 3)
    cfg.model.neck.in_channels = [64] * 4
    cfg.model.neck.out_channels = 32
    _tiny_heads(cfg, [32] * 4)
    cfg.train_dataloader.dataset.pipeline[3].size = (32, 32)
    cfg.model.test_cfg.crop_size = (32, 32)
    cfg.model.test_cfg.stride = (24, 24)
    if config == DEN_SCS:
        # the fake val/test splits hold one month each; area 0 has two in train
        cfg.val_dataloader.dataset.split = 'train'
        cfg.test_dataloader.dataset.split = 'train'
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    assert_finite(metrics, 'mIoU')
    if config == DEN_SCS:
        assert_finite(metrics, 'semantic_change/scs')


@pytest.mark.parametrize('config', [DEN_MM, DEN_MM_GEO])
def test_dynamicearthnet_mm_upernet(config, den_root, tmp_path):
    cfg = load_train_config(config, tmp_path / 'work')
    _paper_schedule(cfg, 6000, 150)
    geo = config == DEN_MM_GEO
    assert cfg.model.backbone.modalities == ('hr', 's2', 's1')
    assert cfg.model.backbone.out_type == 'hr_and_fusion'
    assert bool(cfg.model.backbone.get('geo_context')) == geo
    assert cfg.model.decode_head.in_channels[-1] == (2048 if geo else 1024)
    _den_shrink(cfg, den_root)
    # 64 px Planet -> 2 x 2 last stage; 8 px Sentinel -> 2 x 2 tokens
    cfg.model.backbone.up_head = dict(scale=1)
    for pipeline in (cfg.train_dataloader.dataset.pipeline,
                     cfg.test_dataloader.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline):
        for m in ('s2', 's1'):
            pipeline[0].modalities[m].size = (8, 8)
    fused = 128 if geo else 64
    _tiny_heads(cfg, TINY_CHANNELS + [fused])
    runner = build_runner(cfg)
    runner.train()
    assert_finite(runner.test(), 'mIoU')


def _make_potsdam(root, n=2, size=64):
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        (root / 'img_dir' / split).mkdir(parents=True)
        (root / 'ann_dir' / split).mkdir(parents=True)
        for i in range(n):
            name = f'2_1{i}_0_0_512_512'
            img = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / 'img_dir' / split / f'{name}.png')
            ann = rng.integers(0, 7, (size, size), dtype=np.uint8)
            Image.fromarray(ann).save(root / 'ann_dir' / split / f'{name}.png')


def test_potsdam_upernet(tmp_path):
    _make_potsdam(tmp_path / 'potsdam')
    cfg = load_train_config(POTSDAM, tmp_path / 'work')
    _paper_schedule(cfg, 80000, 1500, batch=16)
    assert cfg.model.backbone.drop_path_rate == 0.3
    assert cfg.train_dataloader.dataset.pipeline[2].ratio_range == (0.5, 2.0)
    assert 'PhotoMetricDistortion' not in [
        t.type for t in cfg.train_dataloader.dataset.pipeline
    ]
    assert cfg.test_evaluator.exclude_classes == ['clutter']
    cfg.model.backbone.arch = 'skysense-tiny'
    cfg.model.backbone.drop_path_rate = 0.0
    cfg.model.backbone.pop('init_cfg')
    _runtime(cfg, tmp_path / 'potsdam')
    _tiny_heads(cfg, TINY_CHANNELS)
    cfg.model.data_preprocessor.size = (64, 64)
    set_scale(cfg.train_dataloader.dataset.pipeline, (64, 64))
    set_scale(cfg.test_dataloader.dataset.pipeline, (64, 64))
    set_scale(cfg.val_dataloader.dataset.pipeline, (64, 64))
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    assert_finite(metrics, 'mFscore')
    assert_finite(metrics, 'mIoU')


def test_pastis_mm_fcn_with_fold_accuracy(tmp_path):
    import json

    from tests.helpers.fake_data.pastis import make_pastis
    from tools.analysis_tools.merge_fold_results import main as merge
    make_pastis(tmp_path / 'pastis', n_patches=5, size=16)
    cfg = load_train_config(PASTIS_MM, tmp_path / 'work')
    _paper_schedule(cfg, 20000, 1500)
    backbone = cfg.model.backbone
    assert backbone.modalities == ('hr', 's2', 's1')
    assert cfg.model.decode_head.type == 'FCNHead'
    assert cfg.model.decode_head.ignore_index == 19
    assert cfg.train_dataloader.dataset.folds == [1, 2, 3]
    assert cfg.test_dataloader.dataset.folds == [5]
    _runtime(cfg, tmp_path / 'pastis')
    backbone.arch = 'tiny'
    backbone.pop('init_cfg')
    backbone.with_cp = False
    for part in ('hr', 's2', 's1'):
        backbone[part].drop_path_rate = 0.0
    # 16 px Sentinel -> 4 x 4 tokens; a 128 px HR image -> 4 x 4 last stage
    backbone.up_head = dict(scale=1)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.pipeline[0].modalities.hr.size = (128, 128)
    cfg.model.decode_head.in_channels = 64
    cfg.model.decode_head.channels = 16
    # every fold once: one run's test covers them all here
    cfg.test_dataloader.dataset.folds = None
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    assert_finite(metrics, 'fold/OA')
    assert {f'fold/fold{k}/OA' for k in range(1, 6)} <= set(metrics)
    out = list((tmp_path / 'work').rglob('fold_confusion.json'))
    assert len(out) == 1
    assert sorted(json.loads(out[0].read_text())['confusions']) == list('12345')
    pooled = merge([str(out[0])])
    assert pooled['OA'] == pytest.approx(metrics['fold/OA'])
