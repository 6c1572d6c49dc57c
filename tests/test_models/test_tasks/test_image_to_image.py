"""eofm.ImageToImageModel, eofm.PixelRegressionHead and eofm.MsGFMMultiSensor:
shapes, loss masking, predictions that eofm.ImageRestorationMetric reads, the band
filling of the adapter, and a few optimisation steps that lower the loss."""
import pytest
import torch

from eofm.registry import METRICS, MODELS

TINY = dict(
    type='eofm.MsGFMSwin',
    arch='tiny',
    sensors=dict(s2=13, s1=2),
    img_size=32,
    out_indices=(0, 1, 2, 3),
    moe_cfg=dict(num_experts=2))
CHANNELS = [32, 64, 128, 256]


def _head(**kw):
    cfg = dict(
        type='eofm.PixelRegressionHead',
        in_channels=CHANNELS,
        out_channels=3,
        channels=16)
    cfg.update(kw)
    return MODELS.build(cfg)


def _feats(b=2, size=32):
    return [
        torch.randn(b, c, size // s, size // s)
        for c, s in zip(CHANNELS, (4, 8, 16, 32))
    ]


def test_head_shapes_and_sizes():
    head = _head()
    assert head(_feats()).shape == (2, 3, 32, 32)  # finest grid x its stride
    assert head(_feats(), out_size=(30, 28)).shape == (2, 3, 30, 28)
    assert len(head.upsample) == 2  # two sub-pixel x2 stages for stride 4
    out = _head(out_act='sigmoid')(_feats())
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match='feature levels'):
        head(_feats()[:3])
    with pytest.raises(ValueError, match='channels'):
        head([torch.randn(2, 8, 8, 8)] + _feats()[1:])
    with pytest.raises(ValueError, match='power of two'):
        _head(in_strides=(3, 6, 12, 24))


def test_head_loss_ignores_invalid_pixels():
    head = _head()
    pred, target = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    target[..., :2, :] = 5.0  # wrong only where invalid
    valid = torch.ones(1, 4, 4, dtype=torch.bool)
    valid[:, :2] = False
    assert head.loss(pred, target, valid)['loss_pixel'].item() == pytest.approx(1.0)
    assert head.loss(pred, target)['loss_pixel'].item() == pytest.approx(3.0)
    mse = _head(loss=dict(type='mmdet.MSELoss'))
    assert mse.loss(pred, target, valid)['loss_pixel'].item() == pytest.approx(1.0)


def _model(**kw):
    cfg = dict(
        type='eofm.ImageToImageModel',
        backbone=dict(
            type='eofm.MsGFMMultiSensor',
            backbone=TINY,
            sensors=['s1', 's2'],
            input_keys=dict(s2='s2_cloudy')),
        head=dict(
            type='eofm.PixelRegressionHead',
            in_channels=CHANNELS,
            out_channels=13,
            channels=16),
        target_key='s2',
        target_range=(0.0, 1.0),
        aux_loss_weight=0.01)
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(b=2, size=32):
    torch.manual_seed(0)
    s2 = torch.rand(b, 13, size, size)
    inputs = dict(
        s1=torch.randn(b, 2, size, size) - 15,
        s2_cloudy=(s2 + 0.5 * torch.rand(b, 1, size, size)).clamp(max=1.2),
        s2=s2 * 1.1,
        s2_mask=torch.ones(b, size, size, dtype=torch.bool))
    return inputs


def test_model_loss_predict_and_metric():
    model = _model()
    inputs = _batch()
    losses = model.loss(inputs)
    assert set(losses) == {'loss_pixel', 'loss_aux'}
    assert all(torch.isfinite(v) for v in losses.values())
    samples = model.predict(inputs)
    assert samples[0].pred_image.shape == samples[0].gt_image.shape == (13, 32, 32)
    assert samples[0].gt_image.max() <= 1.0  # target clipped to target_range
    assert model(inputs).shape == (2, 13, 32, 32)  # tensor mode
    metric = METRICS.build(dict(type='eofm.ImageRestorationMetric'))
    metric.process({}, samples)
    scores = metric.compute_metrics(metric.results)
    assert set(scores) == {'mae', 'sam', 'ssim', 'psnr'}
    with pytest.raises(KeyError, match='target'):
        model.loss({k: v for k, v in inputs.items() if k != 's2'})


def test_model_learns():
    model = _model(aux_loss_weight=0.0)
    inputs = _batch(b=2, size=32)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(8):
        loss = model.loss(inputs)['loss_pixel']
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first


def test_adapter_band_index_fills_missing_bands():
    adapter = MODELS.build(
        dict(
            type='eofm.MsGFMMultiSensor',
            backbone=TINY,
            sensors=['s2'],
            band_index=dict(s2=[i for i in range(13) if i != 10]),
            mode='concat_features'))
    adapter.init_weights()
    adapter.eval()
    x12 = torch.rand(1, 12, 32, 32)
    x13 = torch.cat([x12[:, :10], torch.zeros(1, 1, 32, 32), x12[:, 10:]], dim=1)
    out = adapter(dict(s2=x12))
    ref = adapter.backbone(x13, 's2')
    for a, b in zip(out, ref):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match='bands'):
        adapter(dict(s2=x13))
    with pytest.raises(ValueError, match='not among the sensors'):
        MODELS.build(
            dict(
                type='eofm.MsGFMMultiSensor',
                backbone=TINY,
                sensors=['s2'],
                input_keys=dict(s1='x')))
    with pytest.raises(ValueError, match='distinct positions'):
        MODELS.build(
            dict(
                type='eofm.MsGFMMultiSensor',
                backbone=TINY,
                sensors=['s2'],
                band_index=dict(s2=[0, 0])))


def test_adapter_stack_uses_pretrained_embeddings():
    adapter = MODELS.build(
        dict(
            type='eofm.MsGFMMultiSensor',
            backbone=TINY,
            sensors=['s1', 's2'],
            input_keys=dict(s2='s2_cloudy')))
    adapter.init_weights()
    stack = adapter.backbone.patch_embed['stack'].projection.weight
    s1 = adapter.backbone.patch_embed['s1'].projection.weight
    torch.testing.assert_close(stack[:, :2], s1 / 2)
    assert len(
        adapter(dict(s1=torch.rand(1, 2, 32, 32), s2_cloudy=torch.rand(1, 13, 32,
                                                                       32)))) == 4
