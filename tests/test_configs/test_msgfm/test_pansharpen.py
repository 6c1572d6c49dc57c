"""The msGFM SpaceNet-2 pan-sharpening config (paper Table 3: PSNR / SSIM) keeps its
documented setup and trains, validates and tests end to end on CPU.

The shipped config is checked (PAN + MS stacked into one patch embedding from the
pretrained ``rgb`` and ``s2`` ones, the WorldView-3 band positions, 8 output bands,
PSNR / SSIM), the Swin-B encoder shrunk to ``arch='tiny'`` without weights, a tiny
fake SpaceNet-2 tree written, and two training iterations (with one validation) and
a test run through ``build_runner`` (the code path of ``tools/train.py``).
"""
import torch

from tests.helpers.config_helpers import assert_finite, build_runner, cpu_runtime, load_train_config
from tests.helpers.fake_data.spacenet2 import make_spacenet2
from tests.test_configs.test_msgfm.test_downstream import TINY, _shrink_encoder, _Snapshot

CFG = 'configs/msgfm/msgfm_pixreg_8xb4-40k_spacenet2-pansharpen-256px.py'


def test_spacenet2_pansharpen_config_trains(tmp_path):
    root = tmp_path / 'spacenet2'
    make_spacenet2(root, size=64)
    cfg = load_train_config(CFG, tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.ImageToImageModel'
    assert model.target_key == 'pansharpen' and model.target_range == (0.0, 1.0)
    assert cfg.model.data_preprocessor.get('normalize') is None  # target unscaled
    bb = model.backbone
    assert (bb.type, bb.mode) == ('eofm.MsGFMMultiSensor', 'stack_channels')
    assert bb.sensors == ['rgb', 's2']
    assert bb.input_keys == dict(rgb='pan', s2='ms')
    assert bb.band_index == dict(rgb=[1], s2=[0, 1, 2, 10, 3, 5, 7, 9])
    head = model.head
    assert head.type == 'eofm.PixelRegressionHead' and head.out_channels == 8
    (metric, ) = cfg.test_evaluator
    assert metric.type == 'eofm.ImageRestorationMetric'
    assert list(metric.metrics) == ['psnr', 'ssim'] and metric.data_range == 1.0
    train_ds = cfg.train_dataloader.dataset
    assert train_ds.type == 'eofm.SpaceNet2PanSharpening' and train_ds.split == 'train'
    assert cfg.test_dataloader.dataset.split == 'val'
    for t in train_ds.pipeline:
        if t.type == 'eofm.LoadMultiModalTiles':
            assert t.reference == 'pan'
            assert all(m.size == (650, 650) and m.scale == 'uint11'
                       for m in t.modalities.values())
        if t.type == 'eofm.AlignedRandomCrop':
            assert t.size == (256, 256)

    _shrink_encoder(bb.backbone)
    head.in_channels, head.channels = TINY, 16
    cpu_runtime(cfg, root, batch_size=2)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.dataset.val_interval = 3
        for t in loader.dataset.pipeline:
            if t.type == 'eofm.LoadMultiModalTiles':
                for mod in t.modalities.values():
                    mod.size = (64, 64)
            if t.type == 'eofm.AlignedRandomCrop':
                t.size = (32, 32)
    cfg.train_cfg.max_iters, cfg.train_cfg.val_interval = 2, 2
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    runner = build_runner(cfg)
    assert len(runner.train_dataloader.dataset) == 5
    assert len(runner.test_dataloader.dataset) == 1  # Vegas img3
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    assert set(metrics) == {'restoration/psnr', 'restoration/ssim'}
    assert_finite(metrics, 'restoration/psnr')
    assert_finite(metrics, 'restoration/ssim')
    assert -1 <= metrics['restoration/ssim'] <= 1
    assert snap.changed('head.')
    assert snap.changed('backbone.backbone.patch_embed.stack.')
    # the stacked embedding has PAN + 16 input columns: rgb (3) then s2 (13)
    stack = runner.model.backbone.backbone.patch_embed['stack'].projection
    assert stack.weight.shape[1] == 16
    # full 64 x 64 tiles go through the model at test time
    batch = next(iter(runner.test_dataloader))
    with torch.no_grad():
        out = runner.model.test_step(batch)
    assert out[0].pred_image.shape == (8, 64, 64)
