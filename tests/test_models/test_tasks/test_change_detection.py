"""Siamese change detection: the BIT and U-Net heads, the detector's modes, sliding-
window inference and its input checks, on the CPU presets of SkySense's encoders."""
import pytest
import torch

from eofm.registry import MODELS
from eofm.structures import MultiModalDataSample

TINY_SWIN = [32, 64, 128, 256]


def bit_model(**kwargs):
    cfg = dict(
        type='eofm.SiameseChangeDetector',
        backbone=dict(
            type='eofm.SkySenseSwinV2',
            arch='skysense-tiny',
            out_indices=(0, 1, 2, 3),
            drop_path_rate=0.0),
        decode_head=dict(type='eofm.BITHead', in_channels=TINY_SWIN, channels=16))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def unet_model(**kwargs):
    cfg = dict(
        type='eofm.SiameseChangeDetector',
        backbone=dict(
            type='eofm.SkySenseViT',
            arch='skysense-tiny',
            in_channels=10,
            num_layers=4,
            out_indices=(0, 1, 2, 3)),
        neck=dict(
            type='mmseg.MultiLevelNeck',
            in_channels=[64] * 4,
            out_channels=16,
            scales=[2, 1, 0.5, 0.25]),
        decode_head=dict(
            type='eofm.UNetChangeHead', in_channels=[16] * 4, dropout_ratio=0.0))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def pair_batch(n, channels, size, seed=0):
    """A pre/post batch whose post image differs in a square; labels mark it."""
    g = torch.Generator().manual_seed(seed)
    pre = torch.rand(n, channels, size, size, generator=g)
    post = pre.clone()
    gt = torch.zeros(n, size, size, dtype=torch.long)
    s = size // 4
    post[:, :, s:2 * s, s:3 * s] = 1.0 - post[:, :, s:2 * s, s:3 * s]
    gt[:, s:2 * s, s:3 * s] = 1
    samples = [MultiModalDataSample(gt_change_map=gt[i]) for i in range(n)]
    return dict(pre=pre, post=post), samples


def test_bit_head_shapes_and_tokens():
    head = MODELS.build(
        dict(type='eofm.BITHead', in_channels=TINY_SWIN, channels=32, token_len=4))
    feats = [torch.randn(2, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(TINY_SWIN)]
    other = [f + 1 for f in feats]
    logits = head(feats, other, (64, 64))
    assert logits.shape == (2, 2, 64, 64)
    x = head.fuse_scales(feats)
    assert x.shape == (2, 32, 16, 16)  # the finest (1/4) scale
    assert head.tokenize(x).shape == (2, 4, 32)
    # BIT's defaults: 1 encoder layer, 8 decoder layers, 2L token positions
    assert len(head.encoder.layers) == 1 and len(head.decoder.layers) == 8
    assert head.token_pos.shape == (1, 8, 32)
    assert not head.use_sigmoid and head.out_channels == 2


@pytest.mark.parametrize('fusion', ['diff', 'concat'])
def test_unet_head_shapes(fusion):
    head = MODELS.build(
        dict(
            type='eofm.UNetChangeHead',
            in_channels=[8, 16, 32, 64],
            channels=[8, 8, 16, 16],
            fusion=fusion))
    feats = [
        torch.randn(2, c, 24 // 2**i, 24 // 2**i) for i, c in enumerate([8, 16, 32, 64])
    ]
    logits = head(feats, [f * 2 for f in feats], (48, 48))
    assert logits.shape == (2, 1, 48, 48)
    assert head.use_sigmoid and head.out_channels == 1
    # odd sizes (whole OSCD cities): every skip is matched exactly
    feats = [torch.randn(1, c, s, s) for c, s in zip([8, 16, 32, 64], [25, 13, 7, 3])]
    assert head(feats, feats, (50, 50)).shape == (1, 1, 50, 50)


@pytest.mark.parametrize('build, channels, size', [(bit_model, 3, 32),
                                                   (unet_model, 10, 24)])
def test_loss_goes_down_when_overfitting_one_batch(build, channels, size):
    torch.manual_seed(0)
    model = build()
    model.train()
    inputs, samples = pair_batch(2, channels, size)
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        loss = sum(model(inputs, samples, mode='loss').values())
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0], losses


@pytest.mark.parametrize('build, channels, size', [(bit_model, 3, 32),
                                                   (unet_model, 10, 24)])
def test_slide_equals_whole_when_the_window_covers_the_image(build, channels, size):
    torch.manual_seed(0)
    model = build(test_cfg=dict(mode='whole', output_logits=True)).eval()
    inputs, _ = pair_batch(2, channels, size)
    with torch.no_grad():
        whole = model(inputs, mode='predict')
        for crop in (size, size + 8):
            model.test_cfg.update(mode='slide', crop_size=(crop, crop), stride=(8, 8))
            slide = model(inputs, mode='predict')
            for w, s in zip(whole, slide):
                torch.testing.assert_close(w.change_logits, s.change_logits)
                assert torch.equal(w.pred_change_map, s.pred_change_map)


def test_slide_averages_overlapping_windows(monkeypatch):
    model = bit_model(test_cfg=dict(mode='slide', crop_size=24, stride=16)).eval()
    calls = []

    def fake(a, b):  # logits = the number of the window (1, 2, ...)
        calls.append(a.shape[-2:])
        return torch.full((a.shape[0], 2, *a.shape[-2:]), float(len(calls)))

    monkeypatch.setattr(model, 'encode_decode', fake)
    pre = torch.zeros(1, 3, 40, 56)
    logits = model.slide_inference(pre, pre)
    # rows: [0, 24), [16, 40); columns: [0, 24), [16, 40), [32, 56)
    assert calls == [(24, 24)] * 6
    assert logits.shape == (1, 2, 40, 56)
    assert logits[0, 0, 0, 0] == 1  # window 1 only
    assert logits[0, 0, 0, 20] == pytest.approx((1 + 2) / 2)  # windows 1, 2
    assert logits[0, 0, 20, 20] == pytest.approx((1 + 2 + 4 + 5) / 4)
    assert logits[0, 0, 39, 55] == 6


@pytest.mark.parametrize('build, channels, size', [(bit_model, 3, 32),
                                                   (unet_model, 10, 24)])
def test_test_step_predicts_a_binary_map_of_the_input_size(build, channels, size):
    """Through the data preprocessor, with per-sample dicts as the pipeline packs."""
    model = build().eval()
    inputs, samples = pair_batch(2, channels, size)
    data = dict(
        inputs=[dict(pre=inputs['pre'][i], post=inputs['post'][i]) for i in range(2)],
        data_samples=samples)
    out = model.test_step(data)
    assert len(out) == 2
    for s in out:
        assert s.pred_change_map.shape == (size, size)
        assert s.pred_change_map.dtype == torch.long
        assert set(s.pred_change_map.unique().tolist()) <= {0, 1}
        assert 'change_logits' not in s
    losses = model.train().train_step(data, optim_wrapper=_optim_wrapper(model))
    assert torch.isfinite(losses['loss'])


def _optim_wrapper(model):
    from mmengine.optim import OptimWrapper
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0))


def test_tensor_mode_and_custom_keys():
    model = bit_model(keys=('t1', 't2')).eval()
    inputs, _ = pair_batch(1, 3, 32)
    logits = model(dict(t1=inputs['pre'], t2=inputs['post']))
    assert logits.shape == (1, 2, 32, 32)


def test_bad_inputs_raise_clear_errors():
    model = bit_model()
    inputs, samples = pair_batch(1, 3, 32)
    with pytest.raises(KeyError, match=r"lack \['post'\]"):
        model(dict(pre=inputs['pre']))
    with pytest.raises(ValueError, match='same shape'):
        model(dict(pre=inputs['pre'], post=inputs['post'][..., :16]))
    with pytest.raises(ValueError, match="mode must be 'loss'"):
        model(inputs, mode='bogus')
    with pytest.raises(KeyError, match='gt_change_map'):
        model(inputs, [MultiModalDataSample()], mode='loss')
    with pytest.raises(ValueError, match='gt_change_map is'):
        model(
            inputs, [MultiModalDataSample(gt_change_map=torch.zeros(16, 16))],
            mode='loss')
    with pytest.raises(ValueError, match='keys must name two'):
        bit_model(keys=('pre', 'pre'))
    with pytest.raises(KeyError, match='stride'):
        bit_model(test_cfg=dict(mode='slide', crop_size=32))
    with pytest.raises(ValueError, match="'whole' or 'slide'"):
        bit_model(test_cfg=dict(mode='tiles'))
    # a head whose in_channels do not match the backbone
    wrong = bit_model(
        decode_head=dict(type='eofm.BITHead', in_channels=[32, 64, 128, 512]))
    with pytest.raises(ValueError, match='in_channels'):
        wrong(inputs)
    with pytest.raises(ValueError, match='num_classes=2'):
        MODELS.build(dict(type='eofm.UNetChangeHead', in_channels=[8], num_classes=3))
