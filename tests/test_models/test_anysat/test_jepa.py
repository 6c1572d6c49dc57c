"""AnySat JEPA pretraining: mask collator rules, modality / date dropout, the EMA
target encoder, the predictor's size and the loss going down on a tiny batch."""
import pytest
import torch

from eofm.models.anysat.jepa import (AnySatJEPA, AnySatPredictor,
                                     MultiBlockMaskCollator, drop_dates,
                                     modality_keep_mask)

MODALITIES = dict(naip=dict(), s2=dict(), s1=dict(in_channels=2))


def _batch(b=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        naip=torch.randn(b, 4, 64, 64, generator=g),
        s2=torch.randn(b, 4, 10, 8, 8, generator=g),
        s2_dates=torch.randint(0, 365, (b, 4), generator=g),
        s1=torch.randn(b, 4, 2, 8, 8, generator=g),
        s1_dates=torch.randint(0, 365, (b, 4), generator=g))


def _model(**kw):
    args = dict(
        backbone=dict(type='eofm.AnySat', arch='tiny', modalities=MODALITIES),
        predictor=dict(depth=1, num_heads=4),
        patch_size=20,
        seed=0,
        momentum_steps=10)
    args.update(kw)
    return AnySatJEPA(**args)


def _rect(idx, width):
    rows, cols = idx // width, idx % width
    h = int(rows.max() - rows.min() + 1)
    w = int(cols.max() - cols.min() + 1)
    return h, w, len(idx) == h * w


def test_mask_collator_scales_aspect_and_disjoint_context():
    height = width = 16
    col = MultiBlockMaskCollator(
        enc_mask_scale=(0.85, 1.0),
        pred_mask_scale=(0.2, 0.8),
        aspect_ratio=(0.75, 1.5),
        nenc=1,
        npred=4)
    g = torch.Generator().manual_seed(0)
    n_strict = 0
    for _ in range(20):
        enc, pred = col(3, (height, width), g)
        assert len(enc) == 1 and len(pred) == 4
        ph, pw = col.last_sizes['pred']
        eh, ew = col.last_sizes['enc']
        # the drawn sizes follow the ranges (up to rounding to whole patches)
        area = ph * pw / (height * width)
        assert 0.2 - 0.05 <= area <= 0.8 + 0.05
        assert 0.75 - 0.2 <= ph / pw <= 1.5 + 0.2
        assert eh == ew and eh * ew / (height * width) >= 0.7
        for m in pred:
            assert m.shape[0] == 3 and m.shape[1] == ph * pw
            for row in m:  # every target is a full ph x pw rectangle
                assert _rect(row, width) == (ph, pw, True)
        if col.last_relaxed == 0:
            n_strict += 1
            for i in range(3):
                targets = torch.cat([m[i] for m in pred])
                assert not torch.isin(enc[0][i], targets).any()
    assert n_strict > 0
    # deterministic with a generator
    a = col(2, (height, width), torch.Generator().manual_seed(5))
    b = col(2, (height, width), torch.Generator().manual_seed(5))
    assert all(torch.equal(x, y) for x, y in zip(a[0] + a[1], b[0] + b[1]))


def test_mask_collator_context_excludes_targets_ijepa_scales():
    col = MultiBlockMaskCollator(pred_mask_scale=(0.15, 0.2), min_keep=4)
    g = torch.Generator().manual_seed(1)
    for _ in range(10):
        enc, pred = col(4, (14, 14), g)
        assert col.last_relaxed == 0
        for i in range(4):
            targets = torch.cat([m[i] for m in pred])
            assert not torch.isin(enc[0][i], targets).any()
            assert len(enc[0][i]) > 4


def test_modality_keep_mask_keeps_one_modality_per_patch():
    g = torch.Generator().manual_seed(0)
    keep = modality_keep_mask(5, 3, 12, ratio=0.5, generator=g)
    assert keep.shape == (5, 3, 12) and keep.dtype == torch.bool
    assert keep.any(dim=1).all()
    assert (keep.sum(dim=(1, 2)) == 12 + int(12 * 2 * 0.5)).all()
    assert not keep.all()


def test_drop_dates_keeps_half_in_order():
    batch = _batch()
    out = drop_dates(batch, ['s2', 's1'], 0.5, torch.Generator().manual_seed(0))
    assert out['s2'].shape[1] == 2 and out['s2_dates'].shape == (2, 2)
    for i in range(2):
        idx = [batch['s2_dates'][i].tolist().index(d) for d in out['s2_dates'][i]]
        assert idx == sorted(idx)
        for j, t in enumerate(idx):
            assert torch.equal(out['s2'][i, j], batch['s2'][i, t])
    assert out['naip'] is batch['naip']


def test_combiner_on_all_patches_is_the_encoder():
    net = _model()
    enc = net.backbone.eval()
    batch = _batch()
    parts = enc.tokenize(batch, 20)
    assert [t.shape for t in parts['tokens']] == [torch.Size([2, 16, 64])] * 3
    full = enc.combine(parts)
    torch.testing.assert_close(full, enc(batch, patch_size=20, output='all'))
    sub = enc.combine(parts, torch.tensor([[0, 2], [1, 3]]))
    assert sub.shape == (2, 3, 64)
    # a context of patches is the combiner on those patches, at their places on the
    # full grid: every patch kept, in any order, gives the full output reordered
    perm = torch.stack([torch.randperm(16), torch.randperm(16)])
    reordered = enc.combine(parts, perm)
    torch.testing.assert_close(reordered[:, 0], full[:, 0])
    torch.testing.assert_close(
        reordered[:, 1:], torch.gather(full[:, 1:], 1, perm[..., None].expand(-1, -1, 64)))


def test_predictor_parameters_at_base():
    pred = AnySatPredictor(768, depth=4, num_heads=16)
    assert sum(p.numel() for p in pred.parameters()) == 29_535_744
    small = AnySatPredictor(64, depth=1, num_heads=4)
    x = torch.randn(2, 3, 64)
    out = small(x, torch.tensor([[0, 1, 2], [3, 4, 5]]),
                [torch.tensor([[6, 7], [8, 9]])] * 4, (4, 4), 2)
    assert out.shape == (8, 2, 64)


def test_ema_target_no_gradient_and_linear_momentum():
    net = _model(base_momentum=0.1, end_momentum=0.0, momentum_steps=10)
    net.teacher.steps.zero_()
    net.update_teacher()  # the copy
    student = dict(net.backbone.named_parameters())
    target = dict(net.target_encoder.named_parameters())
    assert all(torch.equal(target[n], p) for n, p in student.items())
    losses = net.loss(_batch())
    sum(losses.values()).backward()
    assert all(not p.requires_grad and p.grad is None for p in target.values())
    assert all(p.grad is not None for n, p in student.items()
               if 'projector' not in n or 'naip' in n)
    before = {n: p.detach().clone() for n, p in target.items()}
    with torch.no_grad():
        for p in student.values():
            p.add_(torch.randn_like(p))
    for step in (1, 2):
        m = 0.1 * (1 - step / 10)  # 0.1 -> 0 over 10 steps, linearly
        assert net.teacher.momentum_at(step) == pytest.approx(m)
        net.update_teacher()
        for n, p in target.items():
            want = (1 - m) * before[n] + m * student[n].detach()
            torch.testing.assert_close(p, want)
            before[n] = p.detach().clone()
    assert net.teacher.momentum_at(20) == 0.0


def test_loss_decreases_and_modes():
    torch.manual_seed(0)
    net = _model(predictor=dict(depth=1, num_heads=4))
    net.teacher.steps.zero_()
    net.update_teacher()
    batch = _batch(b=2, seed=1)
    losses = net.loss(batch)
    assert set(losses) == {'loss_pred', 'loss_contrastive'}
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=2e-3)
    history = []
    for _ in range(15):
        loss = sum(net.loss(batch).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        net.update_teacher()
        history.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(history)))
    assert sum(history[-3:]) / 3 < 0.9 * sum(history[:3]) / 3, history
    assert net(batch, mode='tensor').shape == (2, 17, 64)
    assert net(batch, mode='predict').shape == (2, 64)
    # eofm's data-layer batch, with the HR image renamed to AnySat's 'naip'
    renamed = _model(modality_map=dict(hr='naip'))
    eofm_batch = dict(
        hr=batch['naip'],
        s2=batch['s2'],
        s2_doy=batch['s2_dates'],
        s2_date_mask=torch.ones(2, 4, dtype=torch.bool),
        s1=batch['s1'],
        s1_doy=batch['s1_dates'])
    assert set(renamed.loss(eofm_batch)) == {'loss_pred', 'loss_contrastive'}


def _sample(tile_px, seed):
    """One packed sample: a 10 m S2 / S1 series of ``tile_px`` px, NAIP 8x finer."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        naip=torch.randn(4, 8 * tile_px, 8 * tile_px, generator=g),
        s2=torch.randn(3, 10, tile_px, tile_px, generator=g),
        s2_doy=torch.tensor([10, 100, 200]),
        s1=torch.randn(3, 2, tile_px, tile_px, generator=g),
        s1_doy=torch.tensor([20, 120, 220]))


def test_per_source_blocks_one_update_per_step():
    from mmengine.optim import OptimWrapper
    net = _model(
        source_batch_sizes=[2, 1],
        source_patch_sizes=[[20], [20, 40]],
        data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'))
    net.init_weights()
    # source 0: 40 m tiles; source 1: 80 m tiles (different shapes, one batch)
    data = dict(
        inputs=[_sample(4, 0), _sample(4, 1),
                _sample(8, 2)], data_samples=[None] * 3)
    opt = OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.1))
    calls = []
    step = opt.step
    opt.step = lambda *a, **k: (calls.append(1), step(*a, **k))[1]
    before = {k: v.clone() for k, v in net.backbone.state_dict().items()}
    logs = net.train_step(data, opt)
    assert len(calls) == 1  # one optimizer update for both sources
    assert {'loss_pred_source0', 'loss_pred_source1',
            'loss_contrastive_source1'} <= set(logs)
    per_source = [
        logs[f'loss_pred_source{i}'] + logs.get(f'loss_contrastive_source{i}', 0)
        for i in (0, 1)
    ]
    total = sum(logs[f'loss_source{i}'] for i in (0, 1))
    assert float(total) == pytest.approx(float(sum(per_source)), rel=1e-5)
    assert float(logs['loss']) == pytest.approx(float(total), rel=1e-5)
    after = net.backbone.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    # the patch size is drawn from the source's list
    assert net._patch_size(0) == 20 and net._patch_size(1) in (20, 40)
    with pytest.raises(ValueError, match='add up to 3'):
        net.train_step(dict(inputs=data['inputs'][:2], data_samples=[None] * 2), opt)
    with pytest.raises(ValueError, match='needs source_batch_sizes'):
        _model(source_patch_sizes=[[20]])


def test_mask_collator_small_grids():
    col = MultiBlockMaskCollator()
    g = torch.Generator().manual_seed(0)
    # 2 x 2 patches (FLAIR at 50 m, PLANTED at 60 m): single-patch blocks
    enc, pred = col(3, (2, 2), g)
    assert col.last_sizes == dict(enc=(1, 1), pred=(1, 1))
    assert len(pred) == 4 and all(p.shape == (3, 1) for p in pred)
    assert enc[0].shape == (3, 1)
    with pytest.raises(ValueError, match='1x1 patch grid'):
        col(1, (1, 1), g)


def test_probe_and_named_features_are_the_target_encoders_maps():
    """probe_features: the target encoder's patch tokens on the 4 x 4 grid of 20 m
    patches (80 m tiles), as predict's encoder; named_features adds its
    per-modality spatial tokens before the combiner (3 modalities x 64)."""
    net = _model().eval()
    with torch.no_grad():  # the target encoder differs from the student's weights
        for p in net.target_encoder.parameters():
            p.add_(0.01)
    batch = _batch()
    with torch.no_grad():
        feats = net.probe_features(batch)
        named = net.named_features(batch)
        grid = net.target_encoder(batch, patch_size=20, output='patch')
        student = net.backbone(batch, patch_size=20, output='patch')
    assert feats.shape == (2, 64, 4, 4)
    torch.testing.assert_close(feats, grid.permute(0, 3, 1, 2))
    assert not torch.allclose(feats, student.permute(0, 3, 1, 2))
    torch.testing.assert_close(named['patch'], feats)
    assert named['spatial'].shape == (2, 3 * 64, 4, 4)
    tokens = net.target_encoder.tokenize(batch, 20)['tokens'][1]  # s2, (B, N, D)
    torch.testing.assert_close(named['spatial_s2'],
                               tokens.transpose(1, 2).reshape(2, 64, 4, 4))
