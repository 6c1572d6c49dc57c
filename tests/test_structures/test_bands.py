"""The band contract: input kernels adapted by band name, each policy as it says."""
import pytest
import torch
import torch.nn.functional as F

from eofm.structures.bands import BandMismatchError, adapt_input_kernel, plan_bands

TRAINED = ('B2', 'B3', 'B4', 'B8')
STATS = dict(mean=[0.1, 0.2, 0.3, 0.4], std=[0.5, 0.5, 0.25, 0.2])


def _conv():
    g = torch.Generator().manual_seed(0)
    return torch.randn(6, 4, 3, 3, generator=g), torch.randn(6, generator=g)


def _image(bands, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, len(TRAINED), 8, 8, generator=g)
    return {b: x[:, i] for i, b in enumerate(TRAINED)}, x


def test_reordered_bands_give_the_same_outputs():
    w, b = _conv()
    per_band, x = _image(TRAINED)
    given = ('B8', 'B2', 'B4', 'B3')
    w2, b2, msg = adapt_input_kernel(w, b, TRAINED, given)
    x2 = torch.stack([per_band[n] for n in given], 1)
    assert torch.allclose(F.conv2d(x2, w2, b2), F.conv2d(x, w, b), atol=1e-6)
    assert 'reordered by name' in msg
    assert adapt_input_kernel(w, b, TRAINED, TRAINED)[2] == ''


def test_missing_band_without_policy_names_it():
    w, b = _conv()
    with pytest.raises(BandMismatchError, match=r"s2 of skysense_model_backbone_s2.pth.*"
                       r"lack the band\(s\) \['B8'\]"):
        adapt_input_kernel(w, b, TRAINED, ('B2', 'B3', 'B4'),
                           where='s2 of skysense_model_backbone_s2.pth')
    with pytest.raises(BandMismatchError, match=r"never saw .*'B11'"):
        plan_bands(TRAINED, TRAINED + ('B11', ))
    with pytest.raises(BandMismatchError, match='more than once'):
        plan_bands(TRAINED, ('B2', 'B2'))


def test_mean_and_zero_policies_equal_feeding_that_value():
    w, b = _conv()
    per_band, x = _image(TRAINED)
    given = ('B2', 'B3', 'B4')
    xg = torch.stack([per_band[n] for n in given], 1)
    # 'mean': the band at its training mean = 0 after normalisation
    wm, bm, _ = adapt_input_kernel(w, b, TRAINED, given, missing='mean')
    x_mean = x.clone()
    x_mean[:, 3] = 0
    assert torch.allclose(F.conv2d(xg, wm, bm), F.conv2d(x_mean, w, b), atol=1e-5)
    # 'zero': the physical value 0, normalised (0 - mean) / std (padding=0 keeps it
    # exact away from the border, where the zero padding differs)
    wz, bz, msg = adapt_input_kernel(w, b, TRAINED, given, missing='zero', stats=STATS)
    x_zero = x.clone()
    x_zero[:, 3] = (0 - STATS['mean'][3]) / STATS['std'][3]
    assert torch.allclose(F.conv2d(xg, wz, bz), F.conv2d(x_zero, w, b), atol=1e-5)
    assert "missing ['B8']: zero" in msg
    with pytest.raises(BandMismatchError, match='statistics'):
        adapt_input_kernel(w, b, TRAINED, given, missing='zero')


def test_drop_and_adapt_scales_the_rest():
    w, b = _conv()
    wd, bd, _ = adapt_input_kernel(w, b, TRAINED, ('B2', 'B4'), missing='drop-and-adapt')
    assert torch.allclose(wd, torch.stack([w[:, 0], w[:, 2]], 1) * 2)
    assert torch.equal(bd, b)


def test_extra_bands_new_is_ignored_and_copy_reproduces_the_release_rule():
    from eofm.models.skysense.swin import adapt_patch_embed
    w, b = _conv()
    per_band, x = _image(TRAINED)
    wn, bn, _ = adapt_input_kernel(w, b, TRAINED, TRAINED + ('B11', ), extra='new')
    x_extra = torch.cat([x, torch.randn(2, 1, 8, 8)], 1)
    assert torch.allclose(F.conv2d(x_extra, wn, bn), F.conv2d(x, w, b), atol=1e-6)
    rgb = w[:, :3]
    wc, _, msg = adapt_input_kernel(rgb, None, ('R', 'G', 'B'), ('R', 'G', 'B', 'NIR'),
                                    extra='copy:R')
    assert torch.equal(wc, adapt_patch_embed(rgb, 4, red_index=0))
    assert "extra ['NIR']: copy:R" in msg
    with pytest.raises(BandMismatchError, match='not trained on'):
        plan_bands(('R', 'G', 'B'), ('R', 'G', 'B', 'NIR'), extra='copy:SWIR')


def test_linear_kernels_too():
    w = torch.randn(5, 4)
    x = torch.randn(3, 4)
    w2, _, _ = adapt_input_kernel(w, None, TRAINED, TRAINED[::-1])
    assert torch.allclose(x.flip(1) @ w2.t(), x @ w.t(), atol=1e-6)


def test_skysense_encoders_load_release_files_by_band_name(tmp_path):
    """A release-layout S2 file fed the bands in another order gives the same
    features; a band missing without a policy names band, encoder and file."""
    from eofm.models import SkySenseSwinV2, SkySenseViT
    from eofm.models.skysense.vit import RELEASE_BANDS
    torch.manual_seed(0)
    src = SkySenseViT('skysense-tiny', in_channels=10)
    src.init_weights()
    path = str(tmp_path / 'skysense_model_backbone_s2.pth')
    torch.save(src.state_dict(), path)
    order = list(RELEASE_BANDS[10])[::-1]
    dst = SkySenseViT('skysense-tiny', in_channels=10, bands=order,
                      init_cfg=dict(type='Pretrained', checkpoint=path))
    dst.init_weights()
    x = torch.randn(2, 10, 16, 16)
    src.eval(), dst.eval()
    assert torch.allclose(dst(x.flip(1))[-1], src(x)[-1], atol=1e-5)
    lacking = SkySenseViT('skysense-tiny', in_channels=9, bands=order[:-1],
                          trained_bands=RELEASE_BANDS[10],
                          init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(BandMismatchError, match=r"SkySenseViT \(.*skysense_model_backbone"
                       r"_s2.pth\): the data lack the band\(s\) \['B2'\]"):
        lacking.init_weights()
    # the HR release rule (RGB weights, RGB + NIR data) as a policy of the contract
    hr = SkySenseSwinV2('skysense-tiny', in_channels=3)
    hr_path = str(tmp_path / 'hr.pth')
    torch.save({'backbone.' + k: v for k, v in hr.state_dict().items()}, hr_path)
    by_rule = SkySenseSwinV2('skysense-tiny', in_channels=4,
                             init_cfg=dict(type='Pretrained', checkpoint=hr_path))
    by_name = SkySenseSwinV2('skysense-tiny', in_channels=4, bands=('R', 'G', 'B', 'NIR'),
                             band_policy=dict(extra='copy:R'),
                             init_cfg=dict(type='Pretrained', checkpoint=hr_path))
    by_rule.init_weights(), by_name.init_weights()
    key = 'patch_embed.projection.weight'
    assert torch.equal(by_rule.state_dict()[key], by_name.state_dict()[key])
    strict = SkySenseSwinV2('skysense-tiny', in_channels=4, bands=('R', 'G', 'B', 'NIR'),
                            init_cfg=dict(type='Pretrained', checkpoint=hr_path))
    with pytest.raises(BandMismatchError, match=r"never saw .*'NIR'"):
        strict.init_weights()


def test_msgfm_band_names_replace_positions():
    """msGFM's band_index as a case of the contract: by name, missing bands only
    with the 'mean' policy (zero-filled after normalisation), said in the log."""
    from mmengine.logging import MMLogger

    from eofm.registry import MODELS
    tiny = dict(type='eofm.MsGFMSwin', arch='tiny', sensors=dict(s2=13), img_size=32,
                moe_cfg=dict(num_experts=2))
    l1c = [f'B{i}' for i in (1, 2, 3, 4, 5, 6, 7, 8)] + ['B8A', 'B9', 'B10', 'B11', 'B12']
    l2a = [b for b in l1c if b != 'B10']
    cfg = dict(type='eofm.MsGFMMultiSensor', backbone=tiny, sensors=['s2'],
               mode='concat_features', bands=dict(s2=l2a), trained_bands=dict(s2=l1c))
    with pytest.raises(BandMismatchError, match=r"lack the band\(s\) \['B10'\]"):
        MODELS.build(cfg)
    logged = []
    logger = MMLogger.get_current_instance()
    handler = type('H', (__import__('logging').Handler, ), {
        'emit': lambda self, r: logged.append(r.getMessage())})()
    logger.addHandler(handler)
    try:
        by_name = MODELS.build(dict(cfg, band_policy=dict(missing='mean')))
    finally:
        logger.removeHandler(handler)
    assert by_name.band_index == dict(s2=[i for i in range(13) if i != 10])
    assert any("lacks the pretrained band(s) ['B10']" in m for m in logged)
