"""eofm.MsGFMSwin (shared Swin + per-sensor patch embeddings + MoE) and
eofm.MsGFMMultiSensor (appendix C.2 variants)."""
import pytest
import torch

from eofm.models.msgfm import MoEMlp, MsGFMSwin, single_date
from eofm.registry import MODELS

SENSORS = dict(rgb=3, s2=12, s1=2, dsm=1)


def _tiny(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='eofm.MsGFMSwin',
        arch='tiny',
        sensors=SENSORS,
        img_size=64,
        window_size=4,
        out_indices=(0, 1, 2, 3))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_per_sensor_patch_embeddings_and_shared_encoder():
    model = _tiny()
    assert set(model.patch_embed) == set(SENSORS)
    for name, ch in SENSORS.items():
        assert model.patch_embed[name].projection.in_channels == ch
    outs = model(torch.randn(2, 12, 64, 64), 's2')
    assert [tuple(o.shape) for o in outs] == [(2, 32, 16, 16), (2, 64, 8, 8),
                                              (2, 128, 4, 4), (2, 256, 2, 2)]
    assert model.out_channels == [32, 64, 128, 256]
    assert model.encoder_stride == 32
    # the encoder blocks are the same modules whatever the sensor
    outs_dsm = model(torch.randn(2, 1, 64, 64), 'dsm')
    assert outs_dsm[-1].shape == outs[-1].shape


def test_default_moe_blocks_follow_table_10():
    # an 18-block third stage (Swin-B's depths), small widths to stay cheap
    model = MsGFMSwin(
        sensors=dict(rgb=3),
        arch=dict(embed_dims=8, depths=[2, 2, 18, 2], num_heads=[1, 1, 1, 1]),
        img_size=64,
        window_size=2)
    assert model.moe_positions == [(2, b) for b in (1, 3, 5, 7, 9, 11, 13, 15, 17)]
    moes = model.moe_layers()
    assert len(moes) == 9
    assert all(m.num_experts == 8 and m.top_k == 1 for m in moes)
    assert all(m.capacity_factor == 1.25 for m in moes)
    assert MsGFMSwin.arch_zoo['base'] == dict(
        embed_dims=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32])


def test_moe_block_specs_and_aux_loss():
    model = _tiny(moe_blocks=[(1, 0), (2, 1)], moe_cfg=dict(top_k=2))
    assert model.moe_positions == [(1, 0), (2, 1)]
    assert isinstance(model.stages[1].blocks[0].ffn.moe, MoEMlp)
    assert model.moe_layers()[0].top_k == 2
    model.train()
    model(torch.randn(2, 3, 64, 64), 'rgb')
    expected = sum(m.aux_loss for m in model.moe_layers())
    torch.testing.assert_close(model.aux_loss, expected)
    assert model.aux_loss.dim() == 0 and model.aux_loss.requires_grad
    model = _tiny(moe_blocks={3: [0, 1]})
    assert model.moe_positions == [(3, 0), (3, 1)]
    model = _tiny(moe_blocks='every_other', moe_stages=(2, 3))
    assert model.moe_positions == [(2, 1), (3, 1)]
    model = _tiny(moe_blocks=None)
    assert model.moe_layers() == []
    model(torch.randn(1, 3, 64, 64), 'rgb')
    assert float(model.aux_loss) == 0.0
    with pytest.raises(ValueError, match=r'\(2, 5\) does not exist'):
        _tiny(moe_blocks=[(2, 5)])


def test_clear_errors_for_sensor_and_channels():
    model = _tiny()
    with pytest.raises(KeyError, match="'s3'.*declared sensors"):
        model(torch.randn(1, 3, 64, 64), 's3')
    with pytest.raises(ValueError, match=r"'s1' expects .*2 channels"):
        model(torch.randn(1, 3, 64, 64), 's1')
    with pytest.raises(ValueError, match='at least one sensor'):
        MsGFMSwin(sensors={})


def test_mask_token_replaces_masked_patches():
    model = _tiny(with_mask_token=True, moe_blocks=None).eval()
    x = torch.randn(1, 3, 64, 64)
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)  # 16 px mask patches
    mask[0, 0, 0] = True
    with torch.no_grad():
        ref = model(x, 'rgb')[0]
        masked = model(x, 'rgb', mask=mask)[0]
        # the masked input pixels no longer matter
        x2 = x.clone()
        x2[..., :16, :16] = 100.
        masked2 = model(x2, 'rgb', mask=mask)[0]
    assert not torch.allclose(ref, masked)
    torch.testing.assert_close(masked, masked2)
    with pytest.raises(RuntimeError, match='mask token'):
        _tiny()(x, 'rgb', mask=mask)


def test_single_date_takes_first_valid_date():
    series = torch.arange(2 * 3).float().view(2, 3, 1, 1, 1).expand(2, 3, 2, 4, 4)
    valid = torch.tensor([[False, True, True], [True, False, True]])
    out = single_date(dict(s2=series, s2_date_mask=valid), 's2')
    assert out.shape == (2, 2, 4, 4)
    assert out[0, 0, 0, 0] == 1 and out[1, 0, 0, 0] == 3


def test_multisensor_stack_channels():
    model = MODELS.build(
        dict(
            type='eofm.MsGFMMultiSensor',
            backbone=dict(
                type='eofm.MsGFMSwin',
                arch='tiny',
                sensors=SENSORS,
                img_size=64,
                window_size=4),
            sensors=['s1', 's2'],
            mode='stack_channels'))
    model.init_weights()
    stack = model.backbone.patch_embed['stack'].projection.weight
    assert stack.shape[1] == 14
    torch.testing.assert_close(
        stack,
        torch.cat([
            model.backbone.patch_embed['s1'].projection.weight,
            model.backbone.patch_embed['s2'].projection.weight
        ], 1) / 2)
    outs = model(dict(s1=torch.randn(2, 2, 64, 64), s2=torch.randn(2, 12, 64, 64)))
    assert outs[-1].shape == (2, 256, 2, 2)
    assert model.out_channels == [32, 64, 128, 256]
    with pytest.raises(KeyError, match="'s2' is not in the inputs"):
        model(dict(s1=torch.randn(2, 2, 64, 64)))


def test_multisensor_concat_features():
    model = MODELS.build(
        dict(
            type='eofm.MsGFMMultiSensor',
            backbone=dict(
                type='eofm.MsGFMSwin',
                arch='tiny',
                sensors=SENSORS,
                img_size=64,
                window_size=4,
                out_indices=(2, 3)),
            sensors=['rgb', 'dsm'],
            mode='concat_features'))
    model.train()
    outs = model(dict(rgb=torch.randn(2, 3, 64, 64), dsm=torch.randn(2, 1, 64, 64)))
    assert [o.shape[1] for o in outs] == [256, 512]
    assert model.out_channels == [64, 128, 256, 512]
    assert model.aux_loss.requires_grad
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(
            dict(
                type='eofm.MsGFMMultiSensor',
                backbone=dict(type='eofm.MsGFMSwin', arch='tiny', sensors=SENSORS),
                sensors=['rgb'],
                mode='early'))
