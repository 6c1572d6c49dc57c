"""The msGFM downstream configs (paper Tables 3, 4, 12 and Fig. 4) keep their
documented setup and train, validate and test end to end on CPU.

Each case checks the shipped config (msGFM weights, appendix C.2 stacking of the
sensors, BigEarthNet band positions, label-fraction split lists), shrinks the Swin-B
encoder to ``arch='tiny'`` without weights, writes a tiny fake of the official
dataset layout, runs two training iterations through ``build_runner`` (the code path
of ``tools/train.py``) and one evaluation, and checks the metrics. The seeded
label-fraction tool is checked too.
"""
import pytest
import torch
from mmengine.hooks import Hook

from tests.helpers.config_helpers import assert_finite, build_runner, cpu_runtime, load_train_config
from tests.helpers.fake_data.bigearthnet import make_bigearthnet
from tests.helpers.fake_data.sen12ms import make_sen12ms_cr
from tests.helpers.fake_data.vaihingen import make_vaihingen
from tools.dataset_converters.sample_fraction import (fraction_name, main,
                                                      sample_fraction)

CFG = 'configs/msgfm/msgfm_{}.py'
CKPT = 'checkpoints/msgfm_swin-b.pth'
TINY = [32, 64, 128, 256]
BEN_S2_INDEX = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]  # no B10
# config -> (sensors, label fraction in %)
BEN = {
    'linear_8xb32-100e_bigearthnet-s1s2-192px': (['s2', 's1'], 100),
    'linear_8xb32-100e_bigearthnet-s1s2-10pct-192px': (['s2', 's1'], 10),
    'linear_8xb32-100e_bigearthnet-s1s2-1pct-192px': (['s2', 's1'], 1),
    'linear_8xb32-100e_bigearthnet-s2-192px': (['s2'], 100),
    'linear_8xb32-100e_bigearthnet-s2-10pct-192px': (['s2'], 10),
    'linear_8xb32-100e_bigearthnet-s1-192px': (['s1'], 100),
    'linear_8xb32-100e_bigearthnet-s2-1pct-192px': (['s2'], 1),
    'linear_8xb32-100e_bigearthnet-s1-10pct-192px': (['s1'], 10),
    'linear_8xb32-100e_bigearthnet-s1-1pct-192px': (['s1'], 1),
}
# every BigEarthNet config trains (the fraction ones differ in the split file only)
RUN = list(BEN)
SEN12MS_CR = 'pixreg_8xb4-40k_sen12ms-cr-256px'
VAIHINGEN = 'upernet_4xb2-80k_vaihingen-rgbdsm-512x512'


class _Snapshot(Hook):

    def before_train(self, runner):
        self.before = {
            k: v.detach().clone()
            for k, v in runner.model.named_parameters()
        }

    def after_train(self, runner):
        self.after = {k: v.detach().clone() for k, v in runner.model.named_parameters()}

    def changed(self, prefix):
        keys = [k for k in self.before if k.startswith(prefix)]
        return keys and all(not torch.equal(self.before[k], self.after[k])
                            for k in keys)


def _shrink_encoder(encoder):
    assert encoder.type == 'eofm.MsGFMSwin' and encoder.arch == 'base'
    assert encoder.sensors == dict(rgb=3, s2=13, s1=2, dsm=1)
    assert encoder.init_cfg == dict(
        type='Pretrained', checkpoint=CKPT, prefix='backbone')
    assert (encoder.patch_size, encoder.window_size) == (4, 6)
    encoder.pop('init_cfg')
    encoder.update(
        arch='tiny',
        img_size=32,
        drop_path_rate=0.0,
        moe_cfg=dict(num_experts=2, top_k=1, capacity_factor=1.25))


def _runtime(cfg, root):
    cpu_runtime(cfg, root)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for t in cfg[name].dataset.pipeline:
            if t.type == 'eofm.LoadMultiModalTiles':
                for mod in t.modalities.values():
                    mod.size = (64, 64)


def test_sample_fraction_tool(tmp_path):
    lines = [f'p{i},q{i}' for i in range(1000)]
    ten = sample_fraction(lines, 0.1, seed=0)
    one = sample_fraction(lines, 0.01, seed=0)
    assert (len(ten), len(one)) == (100, 10)
    assert set(one) <= set(ten)  # nested
    assert ten == sorted(ten, key=lines.index)  # input order
    assert sample_fraction(lines, 0.1, seed=0) == ten  # deterministic
    assert sample_fraction(lines, 0.1, seed=1) != ten
    assert sample_fraction(lines[:5], 0.01) and len(sample_fraction(lines[:5],
                                                                    0.01)) == 1
    with pytest.raises(ValueError, match='fraction'):
        sample_fraction(lines, 0)
    assert fraction_name('splits/train.csv', 0.01) == 'train_1pct.csv'
    assert fraction_name('train.csv', 0.005) == 'train_0.5pct.csv'
    split = tmp_path / 'train.csv'
    split.write_text(''.join(line + '\n' for line in lines) + '\n')
    written = main([str(split), '--fractions', '0.01', '0.1'])
    assert (tmp_path / 'train_10pct.csv').read_text().splitlines() == ten
    assert written[0.01][1] == 10


@pytest.mark.parametrize('name', list(BEN))
def test_bigearthnet_config_setup(tmp_path, name):
    sensors, fraction = BEN[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    assert cfg.label_fraction == fraction
    split = 'splits/train.csv' if fraction == 100 else f'splits/train_{fraction}pct.csv'
    assert cfg.train_dataloader.dataset.split_file == split
    assert cfg.test_dataloader.dataset.split_file == 'splits/val.csv'
    assert cfg.train_dataloader.dataset.type == ('eofm.BigEarthNetS2' if sensors
                                                 == ['s2'] else 'eofm.BigEarthNetMM')
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size
    assert cfg.train_cfg.max_epochs == 100
    model = cfg.model
    assert model.type == 'ImageClassifier'
    assert model.data_preprocessor == dict(
        type='eofm.MultiModalDataPreprocessor', task='cls')
    bb = model.backbone
    assert bb.type == 'eofm.MsGFMMultiSensor'
    assert bb.mode == 'stack_channels' and bb.sensors == sensors
    assert bb.stack_name == (sensors[0] if len(sensors) == 1 else 'stack')
    assert bb.band_index == (dict(s2=BEN_S2_INDEX) if 's2' in sensors else {})
    assert bb.backbone.out_indices == (3, )
    assert (model.head.type, model.head.num_classes,
            model.head.in_channels) == ('MultiLabelLinearClsHead', 19, 1024)
    assert model.head.loss.use_sigmoid
    assert [e.type
            for e in cfg.test_evaluator] == ['AveragePrecision', 'MultiLabelMetric']
    for t in cfg.train_dataloader.dataset.pipeline:
        if t.type == 'eofm.LoadMultiModalTiles':
            assert list(t.modalities) == sensors
            assert all(m.size == (192, 192) for m in t.modalities.values())


@pytest.mark.parametrize('name', RUN)
def test_bigearthnet_config_trains(tmp_path, name):
    sensors, fraction = BEN[name]
    root = tmp_path / 'ben'
    root.mkdir()
    make_bigearthnet(root)
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    _shrink_encoder(cfg.model.backbone.backbone)
    cfg.model.head.in_channels = TINY[-1]
    _runtime(cfg, root)
    if fraction < 100:
        main([str(root / 'splits' / 'train.csv'), '--fractions', str(fraction / 100)])
        # the fake's 4 training patches give a 1-patch list: keep it whatever the
        # exclusion lists say
        cfg.train_dataloader.dataset.exclude_files = []
        cfg.train_dataloader.batch_size = 1
    else:
        cfg.train_dataloader.batch_size = 2  # 2 patches left after the exclusions
    cfg.train_cfg.max_epochs = 2  # one iteration an epoch
    runner = build_runner(cfg)
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    assert_finite(metrics, 'multi-label/mAP')
    assert_finite(metrics, 'multi-label/f1-score')
    assert snap.changed('head.')
    embed = runner.model.backbone.backbone.patch_embed
    assert set(embed) == {'rgb', 's2', 's1', 'dsm'
                          } | ({'stack'} if len(sensors) > 1 else set())
    used = 'stack' if len(sensors) > 1 else sensors[0]
    assert snap.changed(f'backbone.backbone.patch_embed.{used}.')


def test_sen12ms_cr_config_trains(tmp_path):
    root = tmp_path / 'sen12ms_cr'
    make_sen12ms_cr(root)
    cfg = load_train_config(CFG.format(SEN12MS_CR), tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.ImageToImageModel'
    assert model.target_key == 's2' and model.target_range == (0.0, 1.0)
    bb = model.backbone
    assert (bb.type, bb.mode) == ('eofm.MsGFMMultiSensor', 'stack_channels')
    assert bb.sensors == ['s1', 's2'] and bb.input_keys == dict(s2='s2_cloudy')
    assert bb.backbone.out_indices == (0, 1, 2, 3)
    head = model.head
    assert head.type == 'eofm.PixelRegressionHead' and head.out_channels == 13
    assert head.in_channels == [128, 256, 512, 1024]
    assert head.loss.type == 'mmdet.L1Loss'
    (metric, ) = cfg.test_evaluator
    assert metric.type == 'eofm.ImageRestorationMetric'
    assert set(metric.metrics) == {'mae', 'sam', 'ssim', 'psnr'}
    assert cfg.model.data_preprocessor.get('normalize') is None  # target unscaled
    _shrink_encoder(bb.backbone)
    head.in_channels, head.channels = TINY, 16
    _runtime(cfg, root)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].batch_size = 1
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 2, 2
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    runner = build_runner(cfg)
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    for key in ('mae', 'sam', 'ssim', 'psnr'):
        assert_finite(metrics, f'restoration/{key}')
    assert 0 <= metrics['restoration/mae'] <= 1
    assert snap.changed('head.')
    assert snap.changed('backbone.backbone.patch_embed.stack.')


def test_vaihingen_rgbdsm_upernet_config_trains(tmp_path):
    root = tmp_path / 'vaihingen'
    make_vaihingen(root)
    cfg = load_train_config(CFG.format(VAIHINGEN), tmp_path / 'work')
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.data_preprocessor.task == 'seg'
    assert list(model.data_preprocessor.normalize) == ['irrg']  # DSM as pretrained
    bb = model.backbone
    assert (bb.type, bb.mode) == ('eofm.MsGFMMultiSensor', 'stack_channels')
    assert bb.sensors == ['rgb', 'dsm'] and bb.input_keys == dict(rgb='irrg')
    assert model.decode_head.type == 'UPerHead' and model.decode_head.num_classes == 6
    assert model.decode_head.in_channels == [128, 256, 512, 1024]
    train_ds, test_ds = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    assert train_ds.type == 'eofm.VaihingenRGBDSM' and train_ds.split == 'train'
    assert (train_ds.tile_size, train_ds.tile_stride) == (512, 256)
    assert test_ds.split == 'test' and test_ds.gt_suffix == '_noBoundary'
    assert cfg.train_cfg.max_iters == 80000
    assert cfg.optim_wrapper.optimizer.lr == 6e-5
    _shrink_encoder(bb.backbone)
    model.decode_head.update(in_channels=TINY, channels=16, norm_cfg=dict(type='BN'))
    model.auxiliary_head.update(
        in_channels=TINY[2], channels=8, norm_cfg=dict(type='BN'))
    _runtime(cfg, root)
    train_ds.tile_size, train_ds.tile_stride = 64, 32
    for name in ('val_dataloader', 'test_dataloader'):
        cfg[name].dataset.tile_size = 64
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 2, 2
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    runner = build_runner(cfg)
    assert len(runner.train_dataloader.dataset) == 8  # 2 areas x 4 windows
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    assert_finite(metrics, 'mIoU')
    assert snap.changed('decode_head.conv_seg.')
    assert snap.changed('backbone.backbone.patch_embed.stack.')


def test_vaihingen_dataset_windows_and_labels(tmp_path):
    from eofm.registry import DATASETS
    labels = make_vaihingen(tmp_path)
    cfg = load_train_config(CFG.format(VAIHINGEN), tmp_path / 'work')
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.update(data_root=str(tmp_path) + '/', tile_size=64)
    ds = DATASETS.build(ds_cfg)
    windows = [ds.get_data_info(i)['window'] for i in range(len(ds))]
    assert windows == [[0, 0, 64, 64], [32, 0, 64, 64], [0, 16, 64, 64],
                       [32, 16, 64, 64]]  # area 2 only, last ones at the edges
    sample = ds[1]
    seg = sample['data_samples'].gt_seg_map.numpy()
    assert (seg[:, :] == labels[0:64, 32:96]).all()  # window 2 misses x = 16
    first = ds[0]['data_samples'].gt_seg_map.numpy()
    assert (first[:, 16] == 255).all() and (first[:, 15] == labels[0:64, 15]).all()
    assert set(sample['inputs']) == {'irrg', 'irrg_mask', 'dsm', 'dsm_mask'}
    assert sample['inputs']['dsm'][0, 0, 0].item() == pytest.approx(253.2)
