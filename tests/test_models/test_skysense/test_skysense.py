"""SkySense backbone: usage modes, fusion semantics, geo-context, bad input."""
import pytest
import torch

from eofm.models import (GeoContextIntegration, MultiModalTemporalFusion, SkySense,
                         region_index)

TINY = dict(arch='tiny', up_head=dict(scale=1))


def _batch(b=2, t2=3, t1=2, hr=128, s=16):
    g = torch.Generator().manual_seed(0)
    return dict(
        hr=torch.randn(b, 3, hr, hr, generator=g),
        s2=torch.randn(b, t2, 10, s, s, generator=g),
        s2_doy=torch.randint(1, 367, (b, t2), generator=g),
        s2_date_mask=torch.ones(b, t2, dtype=torch.bool),
        s1=torch.randn(b, t1, 2, s, s, generator=g),
        s1_doy=torch.randint(1, 367, (b, t1), generator=g),
        lonlat=torch.tensor([[2.35, 48.85], [-46.6, -23.5]])[:b])


def _model(**kw):
    torch.manual_seed(0)
    m = SkySense(**{**TINY, **kw})
    m.init_weights()
    return m.eval()


def test_usage_modes_shapes():
    x = _batch()
    static = _model(
        modalities=('hr', ), use_fusion=False, hr=dict(out_indices=(0, 1, 2, 3)))
    assert [tuple(o.shape)
            for o in static(x['hr'])] == [(2, 32, 32, 32), (2, 64, 16, 16),
                                          (2, 128, 8, 8), (2, 256, 4, 4)]
    temporal = _model(modalities=('s2', ))  # 16 px / patch 4, up-head scale 1
    assert temporal(x)[0].shape == (2, 64, 4, 4)
    multi = _model()
    assert multi(x)[0].shape == (2, 64, 4, 4)
    geo = _model(
        geo_context=True, out_type='hr_and_fusion', hr=dict(out_indices=(0, 1, 2, 3)))
    outs = geo(x)
    assert [o.shape[1] for o in outs] == [32, 64, 128, 256, 128]
    s1_static = _model(modalities=('s1', ), use_fusion=False)
    assert s1_static(x['s1'][:, 0])[0].shape == (2, 64, 4, 4)


def test_forward_has_one_return_type():
    """Every path returns SkySenseOutputs: a tuple of maps (what hosts' necks take),
    with the fused path's intermediates as ``features``."""
    from eofm.models.skysense import SkySenseOutputs
    x = _batch()
    static = _model(modalities=('hr', ), use_fusion=False)(x['hr'])
    series = _model(modalities=('s2', ), use_fusion=False)(x)
    fused = _model(out_type='hr_and_fusion', hr=dict(out_indices=(0, 1, 2, 3)))(x)
    for out in (static, series, fused):
        assert type(out) is SkySenseOutputs and isinstance(out, tuple)
    assert static.features is None and series.features is None
    assert set(fused.features) == {'tokens', 'valid', 'hr_outs', 'fused_mm', 'fused'}
    assert fused[-1] is fused.features['fused'] and len(fused) == 5
    assert [m.shape for m in fused[:4]] == [m.shape for m in fused.features['hr_outs']]


def test_padded_dates_do_not_change_the_output():
    model = _model()
    x = _batch()
    ref = model(x)[0]
    padded = dict(x)
    pad = 2
    padded['s2'] = torch.cat([x['s2'], torch.randn(2, pad, 10, 16, 16) * 100], 1)
    padded['s2_doy'] = torch.cat([x['s2_doy'], torch.full((2, pad), 200)], 1)
    padded['s2_date_mask'] = torch.cat(
        [x['s2_date_mask'], torch.zeros(2, pad, dtype=torch.bool)], 1)
    assert torch.allclose(model(padded)[0], ref, atol=1e-5)
    # ... while a real extra date does.
    padded['s2_date_mask'][:] = True
    assert not torch.allclose(model(padded)[0], ref, atol=1e-3)


def test_pixels_under_the_validity_masks_do_not_change_the_output():
    """A Landsat-style series with nodata stripes: whatever the files hold under
    the masks (-9999, NaN-filled garbage...) gives the same features."""
    x = _batch()
    g = torch.Generator().manual_seed(1)
    masks = dict(hr_mask=torch.rand(2, 128, 128, generator=g) > 0.2,
                 s2_mask=torch.rand(2, 3, 16, 16, generator=g) > 0.3,
                 s1_mask=torch.rand(2, 2, 16, 16, generator=g) > 0.3)
    masks['s2_mask'][:, 1, :, 5:7] = False  # an SLC-off stripe
    clean = dict(x, **masks)
    for m in ('hr', 's2', 's1'):  # as eofm's data layer gives them: 0 under the mask
        clean[m] = x[m] * masks[f'{m}_mask'].unsqueeze(-3)
    garbage = dict(clean)
    for m in ('hr', 's2', 's1'):
        mask = masks[f'{m}_mask'].unsqueeze(-3)
        garbage[m] = torch.where(mask, clean[m], torch.full_like(clean[m], -9999.0))
    for kw in (dict(), dict(modalities=('s2', )), dict(geo_context=True)):
        model = _model(**kw)
        with torch.no_grad():
            a, b = model(clean)[0], model(garbage)[0]
            feats = model(garbage).features['fused']
        assert torch.equal(a, b), kw
        assert torch.equal(feats, a), kw
    hr_only = _model(modalities=('hr', ), use_fusion=False)
    with torch.no_grad():
        assert all(torch.equal(p, q) for p, q in zip(hr_only(clean), hr_only(garbage)))
        # the same garbage without its mask does change the output
        unmasked = {k: v for k, v in garbage.items() if k != 'hr_mask'}
        assert not torch.equal(hr_only(unmasked)[-1], hr_only(clean)[-1])


def test_missing_modality_is_masked():
    model = _model()
    x = _batch()
    x['s1_present'] = torch.tensor([True, False])
    out = model(x)[0]
    y = dict(x)
    y['s1'] = torch.randn_like(x['s1']) * 50  # garbage where absent
    out2 = model(y)[0]
    assert torch.allclose(out[1], out2[1], atol=1e-5)
    assert not torch.allclose(out[0], out2[0], atol=1e-3)


def test_date_encoding_modes():
    x = _batch()
    release = _model(date_encoding='s2')
    assert hasattr(release.fusion, 'ctpe') and not hasattr(release.s2, 'ctpe')
    shifted = dict(x, s1_doy=(x['s1_doy'] % 366) + 1)
    assert torch.allclose(release(x)[0], release(shifted)[0], atol=1e-6)  # S1 ignored
    shifted_s2 = dict(x, s2_doy=(x['s2_doy'] % 366) + 1)
    assert not torch.allclose(release(x)[0], release(shifted_s2)[0], atol=1e-4)
    every = _model(date_encoding='all')
    assert not torch.allclose(every(x)[0], every(shifted)[0], atol=1e-4)
    s1_only = _model(modalities=('s1', ), date_encoding='all')
    assert hasattr(s1_only.fusion, 'ctpe')  # the same owner without an S2 encoder
    none = _model(date_encoding='none')
    assert not hasattr(none.fusion, 'ctpe')
    assert torch.allclose(none(x)[0], none(shifted_s2)[0], atol=1e-6)


def test_day_366_uses_the_last_row():
    fusion = MultiModalTemporalFusion(
        in_channels=8, embed_dims=8, num_layers=1, num_heads=2,
        with_date_table=True).eval()
    fusion.init_weights()
    tokens = torch.randn(1, 2, 8, 1, 1)
    a = fusion(tokens, torch.tensor([[365, 0]]))
    b = fusion(tokens, torch.tensor([[366, 0]]))
    assert torch.allclose(a, b)


def test_geo_context_regions_and_attention():
    # Equal-area bands: the equator splits bands n_lat/2 - 1 and n_lat/2.
    ids = region_index(
        torch.tensor([-180.0, 0.0, 179.9, 0.0]),
        torch.tensor([-90.0, -0.01, 0.01, 90.0]),
        n_lat=4,
        n_lon=8)
    assert ids.tolist() == [0, 1 * 8 + 4, 2 * 8 + 7, 3 * 8 + 4]
    geo = GeoContextIntegration(embed_dims=4, num_prototypes=3, n_lat=2, n_lon=2)
    with torch.no_grad():
        geo.prototypes.zero_()
        geo.prototypes[3] = torch.eye(4)[:3] * 10  # north-east region
    feats = torch.zeros(1, 4, 1, 1)
    feats[0, 1] = 5.0  # most similar to prototype 1
    out = geo(feats, torch.tensor([[10.0, 45.0]]))
    assert out.shape == (1, 8, 1, 1)
    assert out[0, 4:, 0, 0].argmax().item() == 1 and out[0, 5] > 9.9
    assert torch.equal(out[0, :4], feats[0])
    with pytest.raises(ValueError, match='carry no lon/lat'):
        geo(feats, None)


def test_checkpointing_and_chunks_give_the_same_numbers():
    x = _batch()
    plain = _model()
    cp = _model(with_cp=True, fusion=dict(chunk_size=5), s2=dict(chunk_size=2))
    # mmpretrain's SwinV2 drops its rebuilt buffers from incoming state dicts.
    missing = cp.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert all('relative_' in k for k in missing)
    cp.train()
    plain.train()
    torch.manual_seed(1)
    a = plain(x)[0]
    torch.manual_seed(1)
    b = cp(x)[0]
    assert torch.allclose(a, b, atol=1e-5)
    a.sum().backward()
    b.sum().backward()
    ga, gb = plain.fusion.porj_linear.weight.grad, cp.fusion.porj_linear.weight.grad
    assert torch.allclose(ga, gb, atol=1e-4)


def test_bf16_autocast_runs():
    model = _model()
    x = _batch(b=1)
    ref = model(x)[0]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model(x)[0]
    assert torch.isfinite(out).all()
    cos = torch.nn.functional.cosine_similarity(out.float().flatten(), ref.flatten(), 0)
    assert cos > 0.99


def test_frozen_parts():
    model = SkySense(**TINY, frozen=('hr', 's2'))
    model.train()
    assert not any(p.requires_grad for p in model.hr.parameters())
    assert not model.hr.training and model.fusion.training
    assert all(p.requires_grad for p in model.fusion.parameters())


@pytest.mark.parametrize('change,match', [
    (dict(hr=torch.randn(2, 4, 128, 128)), r'hr must be \(B, 3, H, W\)'),
    (dict(s2=torch.randn(2, 3, 12, 16, 16)), 's2 has 12 bands, its encoder expects 10'),
    (dict(hr=torch.randn(2, 3, 256, 256)), 'feature grids of different sizes'),
    (dict(s2_doy=torch.full((2, 3), 400)), r'days of year must be in 1..366'),
    (dict(s1=torch.randn(2, 5, 2, 16, 16), s1_doy=torch.ones(
        2, 5, dtype=torch.long)), 'max_dates.s1=4'),
])
def test_bad_input_is_a_clear_error(change, match):
    model = _model(max_dates=dict(s1=4))
    x = dict(_batch(), **change)
    with pytest.raises(ValueError, match=match):
        model(x)


def test_bad_config_and_missing_lonlat():
    with pytest.raises(ValueError, match='exactly one modality'):
        SkySense(**TINY, use_fusion=False)
    with pytest.raises(ValueError, match='geo_context .* needs use_fusion=True'):
        SkySense(**TINY, modalities=('hr', ), use_fusion=False, geo_context=True)
    with pytest.raises(ValueError, match="date_encoding must be 's2', 'all' or 'none'"):
        SkySense(**TINY, date_encoding='s1')
    model = _model(geo_context=True)
    x = _batch()
    x.pop('lonlat')
    with pytest.raises(ValueError, match='carry no lon/lat'):
        model(x)
    with pytest.raises(ValueError, match='a tensor input needs a single-modality'):
        model(torch.randn(1, 3, 64, 64))


def test_sample_dataset_batch_through_skysense(tmp_path):
    """Generated tiles -> pipeline -> preprocessor -> SkySense with geo-context."""
    from mmengine.config import Config

    from eofm.datasets import multimodal_collate
    from eofm.models import MultiModalDataPreprocessor
    from eofm.registry import DATASETS
    from eofm.datasets.sample_data import generate
    generate(str(tmp_path), num_tiles=4, size=32, hr_factor=8, seed=0)
    cfg = Config.fromfile('configs/_base_/datasets/eofm_sample.py')
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=str(tmp_path)))
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize)
    batch = pre(multimodal_collate([ds[0], ds[1]]))['inputs']
    assert batch['lonlat'].shape == (2, 2)
    model = _model(geo_context=True, hr=dict(in_channels=4), max_dates=dict(s2=8, s1=6))
    out = model(batch)[0]
    assert out.shape == (2, 128, 6, 6)  # 192 px HR crop / 32 = 24 S2 px / 4
    assert torch.isfinite(out).all()


def test_named_features_are_the_fused_path_maps_and_valid_date_means():
    x = _batch()
    x['s2_date_mask'][0, 1:] = False  # sample 0: only its first S2 date is valid
    m = _model()
    with torch.no_grad():
        named = m.named_features(x)
        out = m.forward_features(x)
    assert set(named) == {'fused', 'fused_mm', 'hr', 's2', 's1'}
    assert torch.equal(named['fused'], out['fused'])
    assert torch.equal(named['fused_mm'], out['fused_mm'])
    torch.testing.assert_close(named['hr'], out['tokens']['hr'][:, 0])
    s2 = out['tokens']['s2']
    torch.testing.assert_close(named['s2'][0], s2[0, 0])  # the invalid dates left out
    torch.testing.assert_close(named['s2'][1], s2[1].mean(0))
    grid = tuple(out['fused'].shape[-2:])
    assert all(v.shape[-2:] == grid for v in named.values())
