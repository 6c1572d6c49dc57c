"""AnySat encoder: the released ``AnySat.pth`` layout, strict loading, computations."""
import math

import pytest
import torch

from eofm.models import ANYSAT_MODALITIES, AnySat
from eofm.models.anysat import (ImagePatchProjector, TimeSeriesProjector,
                                subpatch_raster_index)
from eofm.models.common import (CrossRPEBlock, get_2d_sincos_pos_embed_with_resolution, irpe_bucket_ids)
from eofm.models.common import PretrainedMismatchError, empty_weights
from eofm.registry import MODELS
from tests.helpers.anysat_reference import randomise_release_weights

# Channels / sub-patch px of the image modalities and channels / input GroupNorm of
# the time series of the release (the reference's Any_Base_multi.yaml).
IMAGES = {'aerial': (4, 10), 'aerial-flair': (5, 10), 'spot': (3, 10), 'naip': (4, 8)}
SERIES = {
    's2': (10, True),
    's1-asc': (2, False),
    's1': (3, False),
    'alos': (3, False),
    'l7': (6, False),
    'l8': (11, False),
    'modis': (7, False)
}


def _block(prefix, d, heads, rpe):
    out = {}
    for norm in ('norm1', 'norm2'):
        out[f'{prefix}.{norm}.weight'] = out[f'{prefix}.{norm}.bias'] = (d, )
    out.update({
        f'{prefix}.attn.qkv.weight': (3 * d, d),
        f'{prefix}.attn.qkv.bias': (3 * d, ),
        f'{prefix}.attn.proj.weight': (d, d),
        f'{prefix}.attn.proj.bias': (d, ),
        f'{prefix}.mlp.fc1.weight': (4 * d, d),
        f'{prefix}.mlp.fc1.bias': (4 * d, ),
        f'{prefix}.mlp.fc2.weight': (d, 4 * d),
        f'{prefix}.mlp.fc2.bias': (d, ),
    })
    if rpe:
        out[f'{prefix}.attn.rpe_k.lookup_table_weight'] = (1, d // heads, 8)
    return out


def release_layout(d, depth, heads, spatial_depth, spatial_heads, modalities):
    """Key -> shape of the reference's ``AnyModule`` state dict, written from its
    module structure (projectors, TransformerMulti, Block, CrossBlockMulti)."""
    out = {'cls_token': (1, 1, d)}
    for m in modalities:
        p = f'projector_{m}'
        if m in IMAGES:
            c, px = IMAGES[m]
            out[f'{p}.patch_embed.weight'] = (d, c, px, px)
            for i, (o, n) in enumerate([(2 * d, d), (d, 2 * d)]):
                out[f'{p}.mlp.{3 * i}.weight'] = (o, n)
                out[f'{p}.mlp.{3 * i}.bias'] = (o, )
                out[f'{p}.mlp.{3 * i + 1}.weight'] = out[
                    f'{p}.mlp.{3 * i + 1}.bias'] = (o, )
            continue
        c, in_norm = SERIES[m]
        widths = [c, d // 8, d // 2, d, 2 * d, d]
        for i in range(5):
            out[f'{p}.patch_embed.inconv.{4 * i}.weight'] = (widths[i + 1], widths[i])
            for k in (f'inconv.{4 * i}.bias', f'inconv.{4 * i + 1}.weight',
                      f'inconv.{4 * i + 1}.bias'):
                out[f'{p}.patch_embed.{k}'] = (widths[i + 1], )
        if in_norm:
            out[f'{p}.patch_embed.in_norm.weight'] = (d, )
            out[f'{p}.patch_embed.in_norm.bias'] = (d, )
        out[f'{p}.patch_embed.attention_heads.Q'] = (16, 8)
        out[f'{p}.patch_embed.attention_heads.fc1_k.weight'] = (128, d)
        out[f'{p}.patch_embed.attention_heads.fc1_k.bias'] = (128, )
        out[f'{p}.patch_embed.mlp.0.weight'] = (d, d)
        for k in ('mlp.0.bias', 'mlp.1.weight', 'mlp.1.bias', 'out_norm.weight',
                  'out_norm.bias'):
            out[f'{p}.patch_embed.{k}'] = (d, )
        out[f'{p}.pad_parameter'] = ()
    out['spatial_encoder.cls_token'] = (1, 1, d)
    for i in range(spatial_depth):
        out.update(
            _block(f'spatial_encoder.predictor_blocks.{i}', d, spatial_heads, True))
    out['spatial_encoder.predictor_norm.weight'] = (d, )
    out['spatial_encoder.predictor_norm.bias'] = (d, )
    for i in range(depth):
        out.update(_block(f'blocks.{i}', d, heads, False))
    cross = _block(f'blocks.{depth}', d, heads, True)
    for k in ('weight', 'bias'):
        del cross[f'blocks.{depth}.attn.qkv.{k}']
        for name in ('wk', 'wv'):
            cross[f'blocks.{depth}.attn.{name}.{k}'] = (d,
                                                        d) if k == 'weight' else (d, )
    cross[f'blocks.{depth}.attn.q_learned'] = (1, 1, d)
    out.update(cross)
    return out


def _count(module, prefix=''):
    return sum(p.numel() for k, p in module.named_parameters() if k.startswith(prefix))


# ----------------------------------------------------------------------- layout
def test_base_parameter_count_and_release_layout():
    with empty_weights():
        model = MODELS.build(dict(type='eofm.AnySat', arch='base'))
    assert set(model.specs) == set(IMAGES) | set(SERIES) == set(ANYSAT_MODALITIES)
    assert _count(model) == 125_905_447
    assert _count(model, 'projector_') == 34_346_279  # 34.35M
    assert _count(model, 'spatial_encoder.') == 42_532_608  # 42.53M
    assert sum(_count(model, f'blocks.{i}.') for i in range(6)) == 42_527_232
    assert _count(model, 'blocks.6.') == 6_498_560  # 6.50M
    assert _count(model.projector_s2) == 3_396_449
    state = model.state_dict()
    assert len(state) == 418
    expected = release_layout(768, 6, 12, 6, 12, list(IMAGES) + list(SERIES))
    assert len(expected) == 418
    assert {k: tuple(v.shape) for k, v in state.items()} == expected


def _random_release_file(path, d=64, heads=4, modalities=None):
    torch.manual_seed(0)
    modalities = modalities or list(IMAGES) + list(SERIES)
    layout = release_layout(d, 2, heads, 2, heads, modalities)
    state = {k: torch.randn(shape) for k, shape in layout.items()}
    torch.save(state, path)
    return state


def test_tiny_release_layout_checkpoint_loads_strictly(tmp_path):
    path = str(tmp_path / 'anysat_tiny.pth')
    state = _random_release_file(path)
    model = AnySat('tiny', init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    own = model.state_dict()
    assert set(own) == set(state)
    assert all(torch.equal(own[k], v) for k, v in state.items())
    # a subset of modalities skips the other projectors
    sub = AnySat(
        'tiny',
        modalities=['aerial', 's2'],
        init_cfg=dict(type='Pretrained', checkpoint=path))
    sub.init_weights()
    assert torch.equal(sub.projector_s2.pad_parameter,
                       state['projector_s2.pad_parameter'])
    # a file of another size is an error, not a silent partial load
    wrong = str(tmp_path / 'wrong.pth')
    _random_release_file(wrong, d=96, heads=4, modalities=['aerial', 's2'])
    with pytest.raises(PretrainedMismatchError, match='mis-shaped'):
        AnySat(
            'tiny',
            modalities=['aerial', 's2'],
            init_cfg=dict(type='Pretrained', checkpoint=wrong)).init_weights()


# ----------------------------------------------------------------------- forward
def _inputs(b=2, with_modis=True):
    g = torch.Generator().manual_seed(1)
    inputs = {
        'aerial': torch.randn(b, 4, 200, 200, generator=g),  # 40 m at 0.2 m
        's2': torch.randn(b, 3, 10, 4, 4, generator=g),
        's2_dates': torch.randint(1, 366, (b, 3), generator=g),
    }
    if with_modis:
        inputs['modis'] = torch.randn(b, 5, 7, 1, 1, generator=g)
        inputs['modis_dates'] = torch.randint(1, 366, (b, 5), generator=g)
    return inputs


@pytest.fixture(scope='module')
def tiny():
    torch.manual_seed(0)
    return AnySat('tiny', modalities=['aerial', 's2', 'l7', 'modis']).eval()


def test_output_modes_shapes_and_finite(tiny):
    inputs = _inputs()
    with torch.no_grad():
        outs = {
            o: tiny(inputs, patch_size=20, output=o)
            for o in ('tile', 'patch', 'all', 'dense')
        }
        dense_s2 = tiny(inputs, patch_size=20, output='dense', dense_modality='s2')
    assert outs['tile'].shape == (2, 64)
    assert outs['patch'].shape == (2, 2, 2, 64)
    assert outs['all'].shape == (2, 5, 64)
    assert outs['dense'].shape == (2, 20, 20, 128)  # 2 m aerial sub-patches
    assert dense_s2.shape == (2, 4, 4, 128)  # 10 m pixels
    assert all(torch.isfinite(v).all() for v in outs.values())
    assert torch.allclose(outs['all'][:, 0], outs['tile'])
    assert torch.allclose(outs['all'][:, 1:].reshape(2, 2, 2, 64), outs['patch'])
    # dense = the patch token of each sub-patch's patch, then the sub-patch token
    assert torch.allclose(outs['dense'][:, 10:20, :10, :64],
                          outs['patch'][:, 1:2, :1].expand(-1, 10, 10, -1))


def test_constructor_dense_modality_is_the_default_and_validated(tiny):
    inputs = _inputs()
    model = AnySat(
        'tiny',
        modalities=['aerial', 's2', 'l7', 'modis'],
        patch_size=20,
        output='dense',
        dense_modality='s2').eval()
    model.load_state_dict(tiny.state_dict())
    with torch.no_grad():
        want = tiny(inputs, patch_size=20, output='dense', dense_modality='s2')
        assert torch.equal(model(inputs), want)  # the host calls with inputs only
        assert model(inputs, dense_modality='aerial').shape == (2, 20, 20, 128)
    for bad in ('s1', 'modis'):  # not built / tile-level
        with pytest.raises(ValueError, match=f"dense_modality '{bad}'"):
            AnySat('tiny', modalities=['s2', 'modis'], dense_modality=bad)


def test_modality_order_does_not_matter_and_patch_size_changes_grid(tiny):
    inputs = _inputs()
    swapped = {
        k: inputs[k]
        for k in ('s2', 's2_dates', 'modis', 'modis_dates', 'aerial')
    }
    with torch.no_grad():
        a = tiny(inputs, patch_size=20, output='all')
        b = tiny(swapped, patch_size=20, output='all')
        big = tiny(inputs, patch_size=40, output='patch')
    assert torch.allclose(a, b, atol=1e-5)
    assert big.shape == (2, 1, 1, 64)


def test_observation_mask_uses_the_learned_pad_value(tiny):
    inputs = _inputs(with_modis=False)
    mask = torch.ones(2, 3, 1, 1, 1, dtype=torch.bool)
    mask[:, 2] = False
    with torch.no_grad():
        ref = tiny(inputs, patch_size=20, output='tile')
        masked = tiny(dict(inputs, s2_mask=mask), patch_size=20, output='tile')
        filled = dict(inputs)
        filled['s2'] = inputs['s2'].clone()
        filled['s2'][:, 2] = tiny.projector_s2.pad_parameter
        by_hand = tiny(filled, patch_size=20, output='tile')
    assert not torch.allclose(ref, masked)
    assert torch.allclose(masked, by_hand, atol=1e-6)


def test_clear_errors(tiny):
    inputs = _inputs(with_modis=False)
    with pytest.raises(KeyError, match="unknown modality 'hyper'"):
        tiny(dict(inputs, hyper=torch.zeros(2, 3, 4, 4)), patch_size=20)
    with pytest.raises(ValueError, match='aerial has 3 channels'):
        tiny(dict(inputs, aerial=torch.zeros(2, 3, 200, 200)), patch_size=20)
    with pytest.raises(ValueError, match='s2: the patch size 30 m does not divide'):
        tiny({k: v for k, v in inputs.items() if k != 'aerial'}, patch_size=30)
    with pytest.raises(KeyError, match="'s2_dates'"):
        tiny({k: v for k, v in inputs.items() if k != 's2_dates'}, patch_size=20)
    with pytest.raises(ValueError, match='multiple of 10 m'):
        tiny(inputs, patch_size=25)
    l7 = dict(l7=torch.zeros(2, 2, 6, 4, 4), l7_dates=torch.ones(2, 2))
    with pytest.raises(ValueError, match='l7: the GSD 30 m does not divide'):
        tiny(l7, patch_size=20)  # the reference would silently use a wrong grid
    with pytest.raises(ValueError, match="output must be one of"):
        tiny(inputs, patch_size=20, output='pixels')
    with pytest.raises(KeyError, match="unknown arch"):
        AnySat('huge')


# ----------------------------------------------------------- computations by hand
def test_image_projector_reference_subpatch_order():
    torch.manual_seed(0)
    proj = ImagePatchProjector(2, 8, patch_px=2).eval()
    x = torch.randn(1, 2, 16, 16)  # conv grid 8x8; patch = 2x2 cells of 2x2 sub-patches
    s, g = 2, 2
    with torch.no_grad():
        ref = proj(x, side=s * g, cells=s, order='reference')
        raster = proj(x, side=s * g, cells=s, order='raster')
        conv = proj.patch_embed(x)[0]
        for ph in range(2):
            for pw in range(2):
                k = 0
                for si in range(s):
                    for sj in range(s):
                        for gi in range(g):
                            for gj in range(g):
                                r = (ph * s + si) * g + gi
                                c = (pw * s + sj) * g + gj
                                want = proj.mlp(conv[:, r, c])
                                assert torch.allclose(
                                    ref[ph * 2 + pw, k], want, atol=1e-6)
                                k += 1
    index = subpatch_raster_index(s, g)
    assert torch.allclose(raster[:, index], ref)
    assert torch.equal(subpatch_raster_index(1, 4), torch.arange(16))


def test_time_series_projector_raster_patches():
    torch.manual_seed(0)
    proj = TimeSeriesProjector(3, 32, T=367).eval()
    x = torch.randn(1, 4, 3, 4, 6)
    dates = torch.tensor([[5, 40, 200, 300]])
    with torch.no_grad():
        tok = proj(x, dates, pixels=2)
        full = proj.patch_embed(x, dates)[0]  # (D, 4, 6)
        tile = proj(x, dates, pixels=None)
    assert tok.shape == (6, 4, 32) and tile.shape == (1, 24, 32)
    assert torch.allclose(tok[1 * 3 + 2, 1 * 2 + 0], full[:, 3, 4])


def test_spatial_positions_are_metres_of_the_reference():
    # the spatial transformer's (1 + g^2, D) table equals the reference's
    # get_2d_sincos_pos_embed_with_resolution(D, scale, res) for every modality
    from eofm.models.common import get_2d_sincos_pos_embed_with_scale
    for scale, res in [(1, 2.0), (4, 10), (6, 30), (2, 250)]:
        g = max(1, int(scale * 10 / res))
        ours = get_2d_sincos_pos_embed_with_scale(64, g, res, cls_token=True)
        assert torch.equal(
            ours, get_2d_sincos_pos_embed_with_resolution(64, scale, res, True))


def test_cross_rpe_block_by_hand():
    torch.manual_seed(0)
    d, heads, h, w, blocks, skip = 8, 2, 2, 3, 2, 2
    blk = CrossRPEBlock(d, heads).eval()
    with torch.no_grad():
        for p in blk.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    n = skip + blocks * h * w
    x = torch.randn(2, n, d)
    pos = torch.randn(1, skip + h * w, d)
    with torch.no_grad():
        out = blk(x, pos, (h, w), blocks, skip)
        att = blk.attn
        xn = blk.norm1(x)
        q = (att.q_learned + pos)[0]
        k, v = att.wk(xn), att.wv(xn)
        patch_ids = irpe_bucket_ids(h, w)
        table = att.rpe_k.lookup_table_weight[0]  # (head_dim, 8)
        hd = d // heads
        for b in range(2):
            rows = []
            for i in range(skip + h * w):
                heads_out = []
                for hh in range(heads):
                    sl = slice(hh * hd, (hh + 1) * hd)
                    logits = []
                    for j in range(n):
                        if i < skip or j < skip:
                            bucket = 7
                        else:
                            bucket = patch_ids[i - skip, (j - skip) % (h * w)]
                        logits.append(q[i, sl] @ k[b, j, sl] / math.sqrt(hd) +
                                      q[i, sl] @ table[:, bucket])
                    a = torch.stack(logits).softmax(0)
                    heads_out.append(a @ v[b, :, sl])
                rows.append(att.proj(torch.cat(heads_out)))
            a = torch.stack(rows)  # no residual around the attention
            want = a + blk.mlp(blk.norm2(a))
            assert torch.allclose(out[b], want, atol=1e-5)


def test_training_step_reaches_every_used_parameter():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='eofm.AnySat',
            arch='tiny',
            modalities=['aerial', 's2'],
            drop_path_rate=0.1,
            spatial_drop_path_rate=0.1)).train()
    inputs = _inputs(b=1, with_modis=False)
    inputs['s2_mask'] = torch.ones(1, 3, 1, 1, 1, dtype=torch.bool)
    model(inputs, patch_size=20, output='dense').square().mean().backward()
    no_grad = [k for k, p in model.named_parameters() if p.grad is None]
    assert no_grad == []


def test_real_treesatai_tile_through_the_eofm_data_layer(tmp_path):
    """The real TreeSatAI-TS tile (tests/data) loaded by eofm's data layer runs
    through AnySat in every output mode (20 m patches on the 60 m tile)."""
    from eofm.datasets import MultiModalDataset, multimodal_collate
    from eofm.models import MultiModalDataPreprocessor
    from tests.helpers.treesatai_tile import pipeline, write_annotation
    ds = MultiModalDataset(
        ann_file=write_annotation(tmp_path), pipeline=pipeline(dict(s2=12, s1_asc=6)))
    prep = MultiModalDataPreprocessor(
        normalize=dict(
            aerial=dict(mean=[150.9, 92.7, 84.9, 80.7], std=[36.8, 27.6, 22.5, 26.7]),
            s2=dict(mean=[4000.0] * 10, std=[3000.0] * 10)))
    batch = prep(multimodal_collate([ds[0]]))['inputs']
    assert batch['aerial'].shape == (1, 4, 300, 300)
    assert batch['s2'].shape == (1, 12, 10, 6, 6) and 's2_doy' in batch
    torch.manual_seed(0)
    model = AnySat('tiny', modalities=['aerial', 's2', 's1-asc']).eval()
    with torch.no_grad():
        outs = {
            mode: model(batch, patch_size=20, output=mode)
            for mode in ('tile', 'patch', 'all', 'dense')
        }
    d = model.embed_dim
    assert outs['tile'].shape == (1, d)
    assert outs['patch'].shape == (1, 3, 3, d)
    assert outs['all'].shape == (1, 10, d)
    # aerial sub-patches: 10 px (2 m) -> 30 x 30 over the tile
    assert outs['dense'].shape == (1, 30, 30, 2 * d)
    assert all(torch.isfinite(o).all() for o in outs.values())


# ------------------------------------------------------------------ reference parity
def _parity_inputs(names, b=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for m in names:  # a 40 m tile
        if m == 'aerial':
            out[m] = torch.randn(b, 4, 200, 200, generator=g)
        elif m == 'spot':
            out[m] = torch.randn(b, 3, 40, 40, generator=g)
        else:
            c, t = (10, 5) if m == 's2' else (2, 3)
            out[m] = torch.randn(b, t, c, 4, 4, generator=g)
            out[f'{m}_dates'] = torch.randint(1, 366, (b, t), generator=g)
    return out


def _as_reference_layout(model, out, output, inputs, patch_size):
    """eofm's output in the reference's layout (see ``reference_forward``)."""
    if output == 'patch':
        return out.reshape(out.shape[0], -1, out.shape[-1])
    if output != 'dense':
        return out
    names, plans, (gh, gw), _ = model._check_inputs(inputs, patch_size)
    name, plan = names[0], plans[names[0]]
    b, s = out.shape[0], plan['side']
    # undo _dense_grid: map -> (B, N, L, 2D) in the projector's sub-patch order
    y = out.reshape(b, gh, s, gw, s, -1).permute(0, 1, 3, 2, 4, 5)
    y = y.reshape(b, gh * gw, s * s, -1)
    if model.specs[name]['kind'] == 'image':
        order = subpatch_raster_index(plan['cells'], s // plan['cells'],
                                      model.subpatch_order)
        y = y[:, :, order]
    return y


@pytest.mark.parametrize('names', [('aerial', 's2', 's1-asc'), ('s2', ), ('aerial', ),
                                   ('spot', 's1-asc')])
@pytest.mark.parametrize('patch_size', [10, 20])
@pytest.mark.parametrize('train', [False, True])
def test_release_default_reproduces_the_reference_forward(names, patch_size, train):
    """With the release's weights layout, AnySat's default (rpe_query_heads='first')
    gives the reference's outputs in every mode, patch size, subset and mode."""
    from tests.helpers.anysat_reference import reference_forward
    torch.manual_seed(0)
    model = randomise_release_weights(AnySat('tiny', modalities=list(names)))
    assert model.rpe_query_heads == 'first'
    model.train(train)
    inputs = _parity_inputs(names)
    for output in ('tile', 'patch', 'all', 'dense'):
        with torch.no_grad():
            torch.manual_seed(3)  # the same projector dropout draws in both
            ours = model(inputs, patch_size=patch_size, output=output)
            torch.manual_seed(3)
            ref = reference_forward(model, inputs, patch_size, output)
        ours = _as_reference_layout(model, ours, output, inputs, patch_size)
        assert ours.shape == ref.shape, output
        err = (ours - ref).abs().max().item()
        assert err <= 1e-5, (output, err)


def test_per_head_irpe_is_an_option_and_differs_from_the_release():
    """``rpe_query_heads='own'`` (the iRPE paper's form) loads the same weights and
    gives different features: the option is what makes the release reproducible."""
    from tests.helpers.anysat_reference import reference_forward
    names = ('aerial', 's2')
    torch.manual_seed(0)
    first = randomise_release_weights(AnySat('tiny', modalities=list(names))).eval()
    own = AnySat('tiny', modalities=list(names), rpe_query_heads='own').eval()
    own.load_state_dict(first.state_dict(), strict=True)
    inputs = _parity_inputs(names)
    with torch.no_grad():
        ref = reference_forward(first, inputs, 20, 'all')
        a, b = first(inputs, patch_size=20, output='all'), own(inputs,
                                                              patch_size=20,
                                                              output='all')
    assert (a - ref).abs().max() <= 1e-5
    assert (b - ref).abs().max() > 1e-3
    with pytest.raises(ValueError, match='query_heads'):
        AnySat('tiny', modalities=['s2'], rpe_query_heads='per-head')


def test_irpe_first_head_query_equals_the_reference_gather():
    from tests.helpers.anysat_reference import reference_irpe_on_keys
    from eofm.models.common import iRPE
    torch.manual_seed(0)
    q = torch.randn(3, 4, 1 + 5 * 5, 8)
    first, own = iRPE(8, query_heads='first'), iRPE(8)
    with torch.no_grad():
        first.lookup_table_weight.normal_()
        own.lookup_table_weight.copy_(first.lookup_table_weight)
    ref = reference_irpe_on_keys(q, first.lookup_table_weight, 5, 5)
    assert ref.shape == (3, 1, 26, 26)
    got = first(q, 5, 5)
    assert got.shape == (3, 1, 26, 26)
    assert torch.allclose(got, ref, atol=1e-6)
    per_head = own(q, 5, 5)
    assert per_head.shape == (3, 4, 26, 26)
    assert torch.allclose(per_head[:, :1], ref, atol=1e-6)  # head 0 agrees
    assert not torch.allclose(per_head[:, 1:], ref.expand(-1, 3, -1, -1), atol=1e-3)
    with pytest.raises(ValueError, match='num_heads=1'):
        iRPE(8, num_heads=4, query_heads='first')
