"""eofm.MsGFM: per-sensor SimMIM masks, cross-sensor targets (Eq. 1), losses."""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

from eofm.registry import MODELS

SENSORS = dict(rgb=3, dsm=1, s1=2, s2=12)
PAIRS = [('s1', 's2'), ('rgb', 'dsm')]


def _model(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='eofm.MsGFM',
        backbone=dict(
            type='eofm.MsGFMSwin',
            arch='tiny',
            sensors=SENSORS,
            img_size=64,
            window_size=4),
        pairs=PAIRS,
        mask_patch_size=16)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _batch(b=2, size=64):
    g = torch.Generator().manual_seed(1)
    return {
        name: torch.randn(b, c, size, size, generator=g)
        for name, c in SENSORS.items()
    }


def test_masks_follow_the_per_sensor_rule():
    model = _model(cross_prob=0.0)
    inputs = _batch(b=6)
    res = model.reconstruct(inputs)
    n = 4 * 4  # 64 px / 16 px mask patches
    count = math.ceil(0.6 * n)
    for sensor, r in res.items():
        assert r['mask'].shape == (6, 4, 4)
        assert r['mask'].flatten(1).sum(1).tolist() == [count] * 6
        # one pixel mask for all the channels of the sensor, 16 px blocks
        pm = r['pixel_mask']
        assert pm.shape == (6, 1, 64, 64)
        assert torch.equal(pm[:, 0, ::16, ::16], r['mask'])
        assert torch.equal(
            pm, r['mask'].repeat_interleave(16, 1).repeat_interleave(16,
                                                                     2).unsqueeze(1))
    # independent positions across sensors (paired sensors included)
    assert not torch.equal(res['s1']['mask'], res['s2']['mask'])
    assert not torch.equal(res['rgb']['mask'], res['dsm']['mask'])
    # the samples of one sensor are masked independently too
    assert len({tuple(m.flatten().tolist()) for m in res['rgb']['mask']}) > 1


def test_cross_sensor_targets_are_the_partner_sensor():
    model = _model(cross_prob=1.0)
    inputs = _batch()
    res = model.reconstruct(inputs)
    for sensor, partner in [('s1', 's2'), ('s2', 's1'), ('rgb', 'dsm'), ('dsm', 'rgb')]:
        (group, ) = res[sensor]['groups']
        assert group['target_sensor'] == partner
        assert torch.equal(group['target'], inputs[partner])
        # the partner's decoder head: the partner's channels
        assert group['pred'].shape == inputs[partner].shape
    model = _model(cross_prob=0.0)
    res = model.reconstruct(inputs)
    for sensor in SENSORS:
        (group, ) = res[sensor]['groups']
        assert group['target_sensor'] == sensor
        assert torch.equal(group['target'], inputs[sensor])


def test_cross_sensor_probability_mixes_targets_per_sample():
    model = _model(cross_prob=0.5)
    torch.manual_seed(3)
    res = model.reconstruct(_batch(b=16))
    groups = res['s1']['groups']
    assert {g['target_sensor'] for g in groups} == {'s1', 's2'}
    assert sum(g['index'].numel() for g in groups) == 16


def test_missing_partner_errors_or_self_reconstructs():
    inputs = {k: v for k, v in _batch().items() if k in ('s1', 'rgb', 'dsm')}
    with pytest.raises(ValueError, match="'s1' is paired with 's2'"):
        _model().reconstruct(inputs)
    # one sample of the partner missing
    inputs = _batch()
    inputs['s2_present'] = torch.tensor([True, False])
    with pytest.raises(ValueError, match="'s1' is paired with 's2'.*1 of"):
        _model().reconstruct(inputs)
    model = _model(missing_partner='self', cross_prob=1.0)
    res = model.reconstruct(inputs)
    targets = {g['target_sensor']: g['index'].tolist() for g in res['s1']['groups']}
    assert targets == {'s2': [0], 's1': [1]}
    assert res['s2']['mask'].shape[0] == 1  # only the present sample is encoded


def test_loss_terms_and_aux_weight():
    model = _model()
    model.train()
    losses = model(_batch(), mode='loss')
    assert set(losses) == {f'loss_mim_{s}' for s in SENSORS} | {'loss_aux'}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in losses.values())
    losses_no_aux = _model(aux_loss_weight=0.0)(_batch(), mode='loss')
    assert 'loss_aux' not in losses_no_aux
    l1 = model.masked_l1(
        torch.zeros(1, 2, 4, 4), torch.ones(1, 2, 4, 4),
        torch.zeros(1, 1, 4, 4,
                    dtype=torch.bool).index_fill_(2, torch.tensor([0]), True))
    # SimMIM: sum over channels / masked pixels / in_chans = mean |error|
    assert float(l1) == pytest.approx(1.0, rel=1e-4)


def test_predict_tensor_modes_and_config_errors():
    model = _model()
    model.eval()
    with torch.no_grad():
        pred = model(_batch(), mode='predict')
        feats = model(_batch(), mode='tensor')
    assert pred['s2']['pred'].shape == (2, 12, 64, 64)
    assert feats['dsm'][-1].shape == (2, 256, 2, 2)
    with pytest.raises(ValueError, match="'sar' is not declared"):
        _model(pairs=[('s1', 'sar')])
    with pytest.raises(ValueError, match='multiple of the patch size'):
        _model(mask_patch_size=18)
    with pytest.raises(ValueError, match='mask patches'):
        _model(mask_patch_size=48).reconstruct(_batch())


def test_loss_goes_down_with_the_preprocessor_and_sensor_keys():
    model = _model(
        backbone=dict(
            type='eofm.MsGFMSwin',
            arch='tiny',
            sensors=dict(rgb=4, s1=2, s2=10),
            img_size=64,
            window_size=4),
        pairs=[('s1', 's2')],
        sensor_keys=dict(hr='rgb'))
    g = torch.Generator().manual_seed(2)
    # eofm's sample layout: hr static, s2 / s1 series of dates
    samples = [
        dict(
            hr=torch.rand(4, 64, 64, generator=g),
            s2=torch.rand(3, 10, 64, 64, generator=g),
            s2_doy=torch.tensor([10, 50, 90]),
            s1=torch.rand(2, 2, 64, 64, generator=g),
            s1_doy=torch.tensor([12, 70])) for _ in range(2)
    ]
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=2e-3))
    model.train()
    history = []
    for _ in range(20):
        log = model.train_step(dict(inputs=samples), optim)
        history.append(torch.as_tensor(log['loss']).detach().item())
    assert set(log) >= {'loss_mim_rgb', 'loss_mim_s1', 'loss_mim_s2', 'loss_aux'}
    first, last = sum(history[:3]) / 3, sum(history[-3:]) / 3
    assert last < 0.7 * first, history


def test_source_lr_scales_update_once_per_source_at_its_rate():
    """Table 10's per-source learning rates: one update per source block, with the
    group lr scaled by the source's factor and restored afterwards."""
    sizes = [2, 1]

    def run(scales):
        model = _model(source_batch_sizes=sizes, source_lr_scales=scales)
        model.train()
        batch = _batch(b=3)
        samples = [{k: v[i] for k, v in batch.items()} for i in range(3)]
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        before = {k: v.clone() for k, v in model.state_dict().items()}
        log = model.train_step(dict(inputs=samples), optim)
        assert optim.param_groups[0]['lr'] == 0.1  # restored
        changed = [
            k for k, v in model.state_dict().items() if not torch.equal(v, before[k])
        ]
        return log, changed

    log, changed = run([0.0, 0.0])
    assert not changed  # lr 0 for both sources: no parameter moves
    assert {'loss_source0', 'loss_source1', 'loss'} <= set(log)
    log, changed = run([1.0, 0.0])
    assert changed  # the first source's update moves the encoder
    with pytest.raises(ValueError, match='add up to'):
        model = _model(source_batch_sizes=[1, 1], source_lr_scales=[1.0, 1.0])
        model.train_step(
            dict(inputs=[{
                k: v[0]
                for k, v in _batch(b=1).items()
            }] * 3), OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match='go together'):
        _model(source_lr_scales=[1.0])
