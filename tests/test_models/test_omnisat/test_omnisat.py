"""OmniSat (ECCV 2024): encoder, pretraining, parameter parity with the reference."""

import pytest
import torch
import torch.nn as nn

from eofm.models.omnisat import (OmniSat, OmniSatAerialDecoder, OmniSatAerialProjector,
                                 OmniSatPretrainer, OmniSatSentinelDecoder,
                                 convert_omnisat_reference_state_dict,
                                 series_reconstruction_loss)
from eofm.registry import MODELS

TINY = dict(
    embed_dim=64, depth=1, num_heads=4, mlp_ratio=2.0, patch_size=10.0, tile_size=20.0)


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _batch(b=1, px=300, g=6, t2=4, t1=3, s1_channels=2):
    return dict(
        aerial=torch.randn(b, 4, px, px),
        s2=torch.randn(b, t2, 10, g, g),
        s2_doy=torch.randint(1, 366, (b, t2)),
        s1_asc=torch.randn(b, t1, s1_channels, g, g),
        s1_asc_doy=torch.randint(1, 366, (b, t1)))


# ------------------------------------------------------------------ parity
def test_parameter_counts_match_reference():
    enc = OmniSat()
    assert _count(enc.projector_aerial) == 3_550_464
    assert _count(enc.projector_s2) == 403_232
    assert _count(enc.projector_s1_asc) == 402_464
    assert _count(enc.blocks[:6]) == 4_739_328
    assert _count(enc.blocks[6]) == 733_824
    assert _count(enc) == 9_839_040
    model = OmniSatPretrainer(backbone=dict(type='eofm.OmniSat'))
    assert _count(model.decoder) == 1_969_680
    assert _count(model) == 11_808_976


def test_reference_state_dict_keys_and_conversion():
    enc = OmniSat()
    keys = set(enc.state_dict())
    for key in ('cls_token', 'pos_embed', 'projector_aerial.proj.0.weight',
                'projector_aerial.proj.1.running_mean',
                'projector_aerial.proj.4.conv1.weight',
                'projector_aerial.proj.8.bn.bias', 'projector_s2.attention_heads.Q',
                'projector_s1_asc.out_norm.weight', 'blocks.0.attn.qkv.weight',
                'blocks.5.attn.rpe_k.lookup_table_weight', 'blocks.6.attn.q_learned',
                'blocks.6.attn.pos_embed', 'blocks.6.attn.wk.weight',
                'blocks.6.attn.rpe_k.lookup_table_weight', 'blocks.6.mlp.fc2.bias'):
        assert key in keys, key
    assert enc.pos_embed.shape == (1, 37, 256)
    assert enc.blocks[6].attn.pos_embed.shape == (1, 37, 256)
    # a reference MAEOmni state dict (``encoder.``, ``projector_s1-asc``) loads strictly
    model = OmniSatPretrainer(backbone=dict(type='eofm.OmniSat'))
    ref = {}
    for k, v in model.state_dict().items():
        k = k.replace('projector_s1_asc', 'projector_s1-asc')
        ref[k.replace('backbone.', 'encoder.', 1) if k.startswith('backbone.'
                                                                  ) else k] = v
    assert 'encoder.projector_s1-asc.inconv.0.weight' in ref
    assert 'decoder.projector_s1-asc.decode.0.weight' in ref
    model.load_state_dict(convert_omnisat_reference_state_dict(ref), strict=True)


def _reference_aerial(proj, dec, patches):
    """Literal transcription of the reference's PatchEmbed(res=True) forward and
    DecoderDeconvAerial forward (size bookkeeping included)."""
    b, n = patches.shape[:2]
    x = patches.flatten(0, 1)
    indices, sizes = [], []
    for i in range(len(proj.proj)):
        sizes.insert(0, x.shape)
        if proj.MAX_POOLS[i]:
            x, ind = proj.proj[i](x)
            indices.insert(0, ind)
        else:
            x = proj.proj[i](x)
    tokens = x.reshape(b, n, -1)
    del sizes[-3]
    del sizes[-2]
    y = tokens.unsqueeze(-1).unsqueeze(-1).flatten(0, 1)
    c = 0
    for i in range(len(dec.decode)):
        if dec.UNPOOLS[i]:
            y = dec.decode[i](y, indices[c], output_size=sizes[i])
            c += 1
        else:
            y = dec.decode[i](y, output_size=sizes[i])
    return tokens, y.view(b, n, *y.shape[1:])


def test_aerial_projector_and_index_bypass_decoder_match_reference():
    torch.manual_seed(0)
    proj, dec = OmniSatAerialProjector(4, 16, 50).eval(), OmniSatAerialDecoder(4, 16)
    patches = torch.randn(2, 3, 4, 50, 50)
    tokens, indices, sizes = proj(patches)
    assert tokens.shape == (2, 3, 16)
    assert [s for s in sizes] == [(3, 3), (6, 6), (12, 12), (25, 25), (50, 50)]
    rec = dec(tokens, indices, sizes)
    assert rec.shape == (2, 3, 4, 50, 50)
    ref_tokens, ref_rec = _reference_aerial(proj, dec, patches)
    assert torch.allclose(tokens, ref_tokens)
    assert torch.allclose(rec, ref_rec, atol=1e-6)
    # the bypass: unpooling puts each value where its max was found
    first = dec.decode[0](tokens.reshape(6, 16, 1, 1), indices[0], output_size=sizes[0])
    assert (first != 0).sum(dim=(-2, -1)).le(1).all()
    with pytest.raises(ValueError, match='not 1 x 1'):
        OmniSatAerialProjector(4, 16, 100)


def test_sentinel_decoder_matches_reference_date_filtering():
    torch.manual_seed(0)
    dec = OmniSatSentinelDecoder(10, 32)
    assert _count(dec) == 32 * 10 + 10 + 367 * 32
    assert not dec.temp_encoding.weight.requires_grad
    b, n, t = 2, 4, 12
    x, att = torch.randn(b, n, 32), torch.rand(b, t)
    dates = torch.randint(1, 366, (b, t))
    dates[1, 9:] = 0  # padding
    # the reference keeps the dates before its last non-zero one
    valid = torch.stack(
        [torch.arange(t) < torch.nonzero(dates[i] != 0)[-1].item() for i in range(b)])
    pred, index = dec(x, att, dates, valid)
    ref_pred, ref_index = [], []
    for i in range(b):
        att_i = att[i, :torch.nonzero(dates[i] != 0)[-1].item()]
        q = torch.quantile(att_i, q=torch.tensor([0.75]), dim=0, keepdim=True)
        keep = att_i > q[0]
        x_i = x[i].unsqueeze(1).expand(n, int(keep.sum()), 32) + dec.temp_encoding(
            dates[i, :len(keep)][keep])
        ref_pred.append(dec.decode(x_i))
        ref_index += [[i, j] for j in torch.nonzero(keep).flatten().tolist()]
    ref_pred = torch.cat(ref_pred, dim=1).permute(1, 0, 2)
    assert index.tolist() == ref_index
    assert torch.allclose(pred, ref_pred, atol=1e-6)
    # about a quarter of the valid dates are kept
    assert 0 < (index[:, 0] == 0).sum() <= 3


def test_series_loss_on_masked_patches_only():
    torch.manual_seed(0)
    series = torch.randn(2, 5, 3, 2, 2)
    pred = torch.randn(3, 4, 3)
    index = torch.tensor([[0, 1], [1, 0], [1, 4]])
    masked = torch.tensor([[1., 0., 0., 1.], [0., 0., 0., 0.]])
    # reference ReconstructionMaskLossSentinel, transcribed
    target = series[index[:, 0], index[:, 1]]
    target = target.view(target.shape[0], target.shape[1], -1).permute(0, 2, 1)
    target = (target - target.mean(dim=(-2, -1), keepdim=True)) / (
        target.var(dim=(-2, -1), keepdim=True) + 1e-6)**.5
    w = masked[index[:, 0]]
    ref = (((pred - target)**2).mean(-1) * w).sum() / w.sum()
    got = series_reconstruction_loss(pred, index, series, masked)
    assert torch.allclose(got, ref)
    # predictions on unmasked patches do not matter
    pred2 = pred.clone()
    pred2[1:] += 5
    pred2[0, 1:3] += 5
    assert torch.allclose(series_reconstruction_loss(pred2, index, series, masked), got)


# ------------------------------------------------------------------ encoder
def test_encoder_outputs_and_s1_channels():
    torch.manual_seed(0)
    enc = OmniSat(arch=TINY).eval()
    x = _batch(b=2, px=100, g=2, s1_channels=3)
    patch_tokens, tile = enc(x)
    assert patch_tokens.shape == (2, 4, 64) and tile.shape == (2, 64)
    assert torch.isfinite(patch_tokens).all() and torch.isfinite(tile).all()
    # a 3-channel S1 series is cut to VV, VH as in the reference
    x2 = dict(x, s1_asc=x['s1_asc'][:, :, :2])
    assert torch.allclose(enc(x2)[0], patch_tokens)
    fmap = OmniSat(arch=TINY, out_type='featmap').eval()
    fmap.load_state_dict(enc.state_dict())
    (out, ) = fmap(x)
    assert out.shape == (2, 64, 2, 2)
    assert torch.allclose(out.flatten(2).transpose(1, 2), patch_tokens)
    # padded dates are masked in the L-TAE attention: padding the S1 series (no
    # GroupNorm over dates in its projector) changes nothing
    x3 = dict(
        x,
        s1_asc=torch.cat([x['s1_asc'], torch.zeros(2, 2, 3, 2, 2)], 1),
        s1_asc_doy=torch.cat(
            [x['s1_asc_doy'], torch.zeros(2, 2, dtype=torch.long)], 1),
        s1_asc_date_mask=torch.tensor([[True] * 3 + [False] * 2] * 2))
    assert torch.allclose(enc(x3)[0], patch_tokens, atol=1e-5)


def test_encoder_grid_options():
    torch.manual_seed(0)
    inferred = OmniSat(arch=TINY).eval()
    per_mod = OmniSat(arch=TINY, grid='per_modality').eval()
    per_mod.load_state_dict(inferred.state_dict())
    x = _batch(b=1, px=100, g=2)
    assert torch.allclose(inferred(x)[0], per_mod(x)[0], atol=1e-5)  # zero tables
    for enc in (inferred, per_mod):
        nn.init.normal_(enc.blocks[0].attn.rpe_k.lookup_table_weight, std=1.0)
    assert not torch.allclose(inferred(x)[0], per_mod(x)[0], atol=1e-4)
    with pytest.raises(ValueError, match='grid'):
        OmniSat(arch=TINY, grid='square')


def test_encoder_errors():
    enc = OmniSat(arch=TINY)
    x = _batch(b=1, px=100, g=2)
    with pytest.raises(ValueError, match='aerial has 3 channels'):
        enc(dict(x, aerial=torch.randn(1, 3, 100, 100)))
    with pytest.raises(ValueError, match='s2 has 4 channels'):
        enc(dict(x, s2=torch.randn(1, 4, 4, 2, 2)))
    with pytest.raises(ValueError, match='s1_asc has 5 channels'):
        enc(dict(x, s1_asc=torch.randn(1, 3, 5, 2, 2)))
    with pytest.raises(ValueError, match='dates of s2 are missing'):
        enc({k: v for k, v in x.items() if k != 's2_doy'})
    with pytest.raises(ValueError, match='lacks'):
        enc({k: v for k, v in x.items() if k != 's1_asc'})
    with pytest.raises(ValueError, match='does not divide'):  # 120 px = 24 m
        enc(dict(x, aerial=torch.randn(1, 4, 120, 120)))
    with pytest.raises(ValueError, match='does not divide the tile'):
        OmniSat(arch=dict(TINY, patch_size=25.0, tile_size=60.0))
    with pytest.raises(ValueError, match='arch must be one of'):
        OmniSat(arch='huge')
    with pytest.raises(ValueError, match='unknown modality'):
        OmniSat(modalities=('aerial', 'landsat'))


# ------------------------------------------------------------------ pretraining
def _tiny_pretrainer(**kwargs):
    return MODELS.build(
        dict(
            type='eofm.OmniSatPretrainer',
            backbone=dict(
                type='eofm.OmniSat',
                arch=TINY,
                drop_rate=0.0,
                attn_drop_rate=0.0,
                drop_path_rate=0.0,
                ltae_dropout=0.0),
            **kwargs))


def test_masking_replaces_tokens_by_mask_token():
    model = _tiny_pretrainer()
    nn.init.normal_(model.masked_token)
    tokens = torch.randn(3, 12, 64)
    out, mask = model.random_masking(tokens)
    assert mask.shape == (3, 12)
    assert (mask.sum(1) == 12 - int(12 * 0.25)).all()
    m = mask.bool()
    assert torch.equal(out[~m], tokens[~m])
    assert torch.allclose(out[m], model.masked_token[0].expand(int(m.sum()), -1))


def test_pretrainer_modes_and_loss_decreases():
    torch.manual_seed(0)
    model = _tiny_pretrainer()
    x = _batch(b=2, px=100, g=2, t2=8, t1=8)
    losses = model(x, mode='loss')
    assert set(losses) == {
        'loss_rec_aerial', 'loss_rec_s2', 'loss_rec_s1_asc', 'loss_milnce'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    pred = model(x, mode='predict')
    assert pred['aerial'].shape == (2, 4, 4, 50, 50)
    assert pred['s2'][0].shape[1:] == (4, 10) and pred['s2'][1].shape[1] == 2
    tokens, tile = model(x, mode='tensor')
    assert tokens.shape == (2, 4, 64)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    history = []
    for _ in range(15):
        torch.manual_seed(1)  # same masks at every step
        loss = sum(model(x, mode='loss').values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert history[-1] < 0.8 * history[0], history
    # no contrastive / no date filtering ablations build and run
    abl = _tiny_pretrainer(contrastive=None, date_filtering=False)
    out = abl(x, mode='loss')
    assert 'loss_milnce' not in out and torch.isfinite(out['loss_rec_s2'])


# ------------------------------------------------------------------ real tile
@pytest.fixture
def real_batch(tmp_path):
    from eofm.datasets import MultiModalDataset, multimodal_collate
    from eofm.models import MultiModalDataPreprocessor
    from tests.helpers.treesatai_tile import pipeline, write_annotation
    ds = MultiModalDataset(
        ann_file=write_annotation(tmp_path), pipeline=pipeline(dict(s2=50, s1_asc=50)))
    pre = MultiModalDataPreprocessor(
        normalize=dict(
            aerial=dict(
                mean=[150.8935, 92.7139, 84.8544, 80.7042],
                std=[36.7649, 27.6250, 22.4795, 26.7337]),
            s2=dict(mean=[4000.0] * 10, std=[3000.0] * 10),
            s1_asc=dict(mean=[0.1, 0.03], std=[0.05, 0.02])))
    return pre(multimodal_collate([ds[0]]))['inputs']


def test_real_treesatai_ts_tile_end_to_end(real_batch):
    assert real_batch['aerial'].shape == (1, 4, 300, 300)
    assert real_batch['s2'].shape == (1, 50, 10, 6, 6)
    assert real_batch['s1_asc'].shape == (1, 50, 2, 6, 6)
    torch.manual_seed(0)
    model = OmniSatPretrainer(backbone=dict(type='eofm.OmniSat'))
    model.eval()
    with torch.no_grad():
        patch_tokens, tile = model(real_batch, mode='tensor')
        assert patch_tokens.shape == (1, 36, 256) and tile.shape == (1, 256)
        assert torch.isfinite(patch_tokens).all() and torch.isfinite(tile).all()
        # the projector tokens differ across patches (the fused ones start equal:
        # the cross block's query and positions are zero-initialised, as reference)
        _, out = model.backbone.forward_proj(real_batch)
        for m in ('aerial', 's2', 's1_asc'):
            assert out[f'tokens_{m}'].shape == (1, 36, 256)
            assert out[f'tokens_{m}'].std(dim=1).mean() > 1e-3, m
        assert out['attention_s2'].shape == (1, 50)
        losses = model(real_batch, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    pred = model.predict(real_batch)
    assert pred['aerial'].shape == (1, 36, 4, 50, 50)
    kept = pred['s2'][1]
    assert 5 <= kept.shape[0] <= 13  # about a quarter of the 50 dates


def test_pretrainer_train_step_through_data_preprocessor():
    from mmengine.optim import OptimWrapper
    torch.manual_seed(0)
    model = _tiny_pretrainer()

    def sample(t2, t1):
        return dict(
            aerial=torch.randn(4, 100, 100),
            s2=torch.randn(t2, 10, 2, 2),
            s2_doy=torch.arange(1, t2 + 1) * 20,
            s2_date_mask=torch.ones(t2, dtype=torch.bool),
            s1_asc=torch.randn(t1, 2, 2, 2),
            s1_asc_doy=torch.arange(1, t1 + 1) * 30,
            s1_asc_date_mask=torch.ones(t1, dtype=torch.bool))

    data = dict(inputs=[sample(6, 4), sample(8, 3)], data_samples=None)
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-4))
    log_vars = model.train_step(data, wrapper)
    assert set(log_vars) >= {'loss', 'loss_rec_aerial', 'loss_milnce'}
    assert torch.isfinite(log_vars['loss'])


def _lightning_reference_file(tmp_path, enc):
    """A reference OmniSat checkpoint as Lightning writes it: ``state_dict`` with the
    module's ``model.`` prefix, the encoder under ``model.encoder.``, dashed
    modality names, a decoder beside it and training state around it."""
    state = {}
    for k, v in enc.state_dict().items():
        state['model.encoder.' + k.replace('projector_s1_asc', 'projector_s1-asc')] = \
            v.clone()
    state['model.decoder.projector_s1-asc.decode.0.weight'] = torch.zeros(3)
    path = str(tmp_path / 'omnisat_ref.ckpt')
    torch.save(dict(state_dict=state, epoch=3, global_step=99), path)
    return path


@pytest.mark.parametrize('prefix', ['model.encoder.', 'model.encoder', None])
def test_reference_lightning_checkpoint_loads_every_tensor(tmp_path, prefix):
    torch.manual_seed(0)
    src = OmniSat(arch=TINY)
    with torch.no_grad():
        for p in src.parameters():
            p.add_(torch.randn_like(p))
    path = _lightning_reference_file(tmp_path, src)
    torch.manual_seed(1)
    dst = OmniSat(arch=TINY, init_cfg=dict(type='Pretrained', checkpoint=path,
                                           prefix=prefix))
    dst.init_weights()
    ref = src.state_dict()
    for k, v in dst.state_dict().items():
        assert torch.equal(v, ref[k]), k
    # the S1 projector included: 29 parameters and its buffers, 47 tensors
    assert sum(k.startswith('projector_s1_asc.') for k in ref) == 47


def test_reference_checkpoint_that_leaves_parameters_unloaded_is_an_error(tmp_path):
    from eofm.models.common import PretrainedMismatchError
    src = OmniSat(arch=TINY)
    path = _lightning_reference_file(tmp_path, src)
    ckpt = torch.load(path, weights_only=True)
    del ckpt['state_dict']['model.encoder.projector_s1-asc.out_norm.weight']
    torch.save(ckpt, path)
    dst = OmniSat(arch=TINY, init_cfg=dict(type='Pretrained', checkpoint=path,
                                           prefix='model.encoder.'))
    with pytest.raises(PretrainedMismatchError) as e:
        dst.init_weights()
    msg = str(e.value)
    assert 'projector_s1_asc.out_norm.weight' in msg and 'omnisat_ref.ckpt' in msg
    # a file for other modalities: the missing projector is named, not left random
    dst = OmniSat(arch=TINY, modalities=('aerial', 's2', 's1_des'),
                  init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(PretrainedMismatchError, match='projector_s1_des'):
        dst.init_weights()
