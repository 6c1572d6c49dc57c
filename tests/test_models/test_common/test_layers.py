"""Shared building blocks of OmniSat and AnySat: LTAE, iRPE attention, scale-adaptive
sin-cos positions, MIL-NCE and metric patch tokenisation."""
import math

import numpy as np
import pytest
import torch

from eofm.models.common import (LTAE, RPEAttention, RPEBlock, date_positional_encoding, iRPE, irpe_bucket_ids, irpe_num_buckets, patchify_aligned, get_2d_sincos_pos_embed_with_resolution, get_2d_sincos_pos_embed_with_scale)
from eofm.models.common.mil_nce import MILNCELoss
from eofm.registry import MODELS


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _omnisat_ltae(in_channels, in_norm, **kwargs):
    return MODELS.build(
        dict(
            type='eofm.LTAE',
            in_channels=in_channels,
            n_head=16,
            d_k=8,
            mlp=[256, 512, 256],
            mlp_in=[32, 128, 256],
            dropout=0.2,
            T=367,
            in_norm=in_norm,
            **kwargs))


# ----------------------------------------------------------------------------- LTAE
def test_ltae_parameter_counts_match_reference():
    # OmniSat TreeSatAI-TS projectors (d = 256), as the reference's LTAE2d counts them
    assert _count(_omnisat_ltae(10, True)) == 403_232
    assert _count(_omnisat_ltae(2, False)) == 402_464
    # AnySat base (D = 768) Sentinel-2 projector: GroupNorm(4) MLPs, mlp [768]
    d = 768
    anysat_s2 = LTAE(
        in_channels=10,
        n_head=16,
        d_k=8,
        mlp=[d],
        mlp_in=[d // 8, d // 2, d, 2 * d, d],
        dropout=0.0,
        T=367,
        in_norm=True,
        norm='gn',
        pad_value=True,
        mask_attention=False)
    assert _count(anysat_s2) == 3_396_448 + 1  # + the learned pad scalar


def test_ltae_reference_state_dict_keys():
    keys = set(_omnisat_ltae(10, True).state_dict())
    for key in ('inconv.0.weight', 'inconv.1.running_mean', 'inconv.8.weight',
                'in_norm.weight', 'attention_heads.Q', 'attention_heads.fc1_k.weight',
                'mlp.0.weight', 'mlp.6.weight', 'mlp.7.running_var', 'out_norm.bias'):
        assert key in keys


def test_date_positional_encoding_hand_values():
    dates = torch.tensor([[10.0, 200.0]])
    pe = date_positional_encoding(dates, d=4, T=367, repeat=2)
    assert pe.shape == (1, 2, 8)
    t = 200.0
    expected = [
        math.sin(t),
        math.cos(t),
        math.sin(t / 367**0.5),
        math.cos(t / 367**0.5)
    ]
    assert torch.allclose(pe[0, 1, :4], torch.tensor(expected), atol=1e-5)
    assert torch.equal(pe[..., :4], pe[..., 4:])


def _ltae_by_hand(model, x, dates, pad_mask=None):
    """L-TAE of one sequence (T, C), written out from the module's parameters (eval)."""
    h = model.inconv(x)
    h = model.in_norm(h.t()[None])[0].t()
    d = model.d_model // model.n_head
    pe = torch.zeros(len(dates), d)
    for i, t in enumerate(dates.tolist()):
        for c in range(d):
            angle = t / model.T**(2 * (c // 2) / d)
            pe[i, c] = math.sin(angle) if c % 2 == 0 else math.cos(angle)
    h = h + pe.repeat(1, model.n_head)
    att = model.attention_heads
    keys = att.fc1_k(h).view(len(dates), model.n_head, att.d_k)
    heads, weights = [], []
    for head in range(model.n_head):
        logits = keys[:, head] @ att.Q[head] / math.sqrt(att.d_k)
        if pad_mask is not None:
            logits = logits.masked_fill(pad_mask, -1000.0)
        w = logits.softmax(0)
        weights.append(w)
        heads.append(w @ h[:, head * d:(head + 1) * d])
    out = model.out_norm(model.mlp(torch.cat(heads)[None]))[0]
    return out, torch.stack(weights).mean(0)


@pytest.mark.parametrize('norm', ['bn', 'gn'])
def test_ltae_matches_hand_computation_per_pixel(norm):
    torch.manual_seed(0)
    model = LTAE(
        in_channels=3,
        n_head=4,
        d_k=2,
        mlp_in=[8, 16],
        mlp=[16, 8],
        T=367,
        norm=norm,
        return_att=True).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(2, 5, 3, 2, 3)
    dates = torch.randint(1, 366, (2, 5))
    pad = torch.zeros(2, 5, dtype=torch.bool)
    pad[1, 3:] = True
    with torch.no_grad():
        out, att = model(x, dates, pad)
        assert out.shape == (2, 8, 2, 3) and att.shape == (2, 5)
        for b in range(2):
            atts = []
            for i in range(2):
                for j in range(3):
                    ref, a = _ltae_by_hand(model, x[b, :, :, i, j], dates[b], pad[b])
                    assert torch.allclose(out[b, :, i, j], ref, atol=1e-5)
                    atts.append(a)
            assert torch.allclose(att[b], torch.stack(atts).mean(0), atol=1e-6)
        assert torch.allclose(att.sum(1), torch.ones(2), atol=1e-5)
        assert att[1, 3:].max() < 1e-6  # padded dates get no attention
        # sequence input (B, T, C) is the single-pixel case
        seq_out, seq_att = model(x[:, :, :, 0, 0], dates, pad)
        assert torch.allclose(seq_out, out[:, :, 0, 0], atol=1e-6)


def test_ltae_pad_value_replaces_missing_dates_and_gets_gradients():
    torch.manual_seed(0)
    model = LTAE(
        in_channels=4,
        n_head=4,
        d_k=2,
        mlp_in=[8, 16],
        mlp=[16],
        norm='gn',
        dropout=0.0,
        pad_value=True,
        mask_attention=False).eval()
    with torch.no_grad():
        model.pad_parameter.fill_(0.7)
    x = torch.randn(2, 6, 4)
    dates = torch.randint(1, 366, (2, 6))
    pad = torch.zeros(2, 6, dtype=torch.bool)
    pad[0, 4:] = True
    filled = x.clone()
    filled[0, 4:] = 0.7
    assert torch.allclose(model(x, dates, pad), model(filled, dates), atol=1e-6)
    (model(x, dates, pad) * torch.randn(2, 16)).sum().backward()
    assert model.pad_parameter.grad is not None and model.pad_parameter.grad != 0


# ----------------------------------------------------------------------------- iRPE
def test_irpe_buckets_hand_checked():
    assert irpe_num_buckets(1.9) == 8  # 2 * int(3.8) + 1 = 7, + 1 for skip tokens
    ids = irpe_bucket_ids(5, 5, skip=1)
    assert ids.shape == (26, 26)
    assert (ids[0] == 7).all() and (ids[:, 0] == 7).all()
    grid = ids[1:, 1:].view(5, 5, 5, 5)
    # distance round(sqrt(dr^2 + dc^2)) 0 -> 3, 1 -> 4, 2-3 -> 5, >= 4 -> 6
    assert grid[0, 0, 0, 0] == 3
    assert grid[0, 0, 0, 1] == 4 and grid[0, 0, 1, 1] == 4  # sqrt(2) rounds to 1
    assert grid[0, 0, 0, 2] == 5 and grid[0, 0, 2, 2] == 5  # 2 and sqrt(8) -> 3
    assert grid[0, 0, 0, 3] == 5
    assert grid[0, 0, 0, 4] == 6 and grid[0, 0, 4, 4] == 6
    assert torch.equal(ids, ids.t())


def test_irpe_inferred_grid_reproduces_omnisat_layout():
    rpe = iRPE(head_dim=4)
    ids = rpe.bucket_ids(1 + 3 * 36)  # cls + 3 modalities x 6 x 6 patches
    skip = 109 - 100  # floor(sqrt(109)) = 10: a 10 x 10 grid, 9 skip tokens
    assert (ids[:skip] == 7).all() and (ids[:, :skip] == 7).all()
    assert torch.equal(ids[skip:, skip:], irpe_bucket_ids(10, 10))


def test_irpe_per_modality_grid():
    rpe = iRPE(head_dim=4)
    ids = rpe.bucket_ids(1 + 3 * 36, 6, 6, num_grids=3)
    one = irpe_bucket_ids(6, 6)
    assert (ids[0] == 7).all()
    for a in range(3):
        for b in range(3):
            block = ids[1 + 36 * a:1 + 36 * (a + 1), 1 + 36 * b:1 + 36 * (b + 1)]
            assert torch.equal(block, one)  # same patch in another modality: distance 0
    with pytest.raises(ValueError):
        rpe.bucket_ids(50, 6, 6, num_grids=2)


def test_rpe_attention_zero_table_is_plain_attention():
    torch.manual_seed(0)
    attn = RPEAttention(32, num_heads=4, qkv_bias=True).eval()
    plain = RPEAttention(32, num_heads=4, qkv_bias=True, rpe=False).eval()
    plain.load_state_dict(attn.state_dict(), strict=False)
    assert attn.rpe_k.lookup_table_weight.shape == (1, 8, 8)
    assert not attn.rpe_k.lookup_table_weight.any()  # zero-initialised
    x = torch.randn(2, 17, 32)
    assert torch.allclose(attn(x), plain(x), atol=1e-6)


@pytest.mark.parametrize('grid', ['inferred', 'per_modality'])
def test_rpe_attention_matches_explicit_logits(grid):
    torch.manual_seed(0)
    dim, heads, hd = 16, 2, 8
    attn = RPEAttention(dim, num_heads=heads, qkv_bias=True, grid=grid).eval()
    with torch.no_grad():
        attn.rpe_k.lookup_table_weight.normal_()
    length = 1 + 2 * 4  # cls + 2 modalities of a 2 x 2 grid
    x = torch.randn(2, length, dim)
    if grid == 'inferred':
        out = attn(x)
        ids = irpe_bucket_ids(3, 3, skip=0)  # floor(sqrt(9)) = 3, no skip token
    else:
        out = attn(x, hw_shape=(2, 2), num_grids=2)
        ids = irpe_bucket_ids(2, 2, skip=1, num_grids=2)
    with torch.no_grad():
        q, k, v = attn.qkv(x).view(2, length, 3, heads, hd).unbind(2)
        table = attn.rpe_k.lookup_table_weight[0]
        expected = torch.zeros(2, length, heads, hd)
        for b in range(2):
            for h in range(heads):
                logits = torch.zeros(length, length)
                for i in range(length):
                    qi = q[b, i, h] * hd**-0.5
                    for j in range(length):
                        logits[i, j] = qi @ k[b, j, h] + qi @ table[:, ids[i, j]]
                expected[b, :, h] = logits.softmax(-1) @ v[b, :, h]
        expected = attn.proj(expected.reshape(2, length, dim))
    assert torch.allclose(out, expected, atol=1e-5)
    # only the first rows queried: the same rows of the explicit computation
    kwargs = {} if grid == 'inferred' else dict(hw_shape=(2, 2), num_grids=2)
    first = attn(x, num_queries=3, **kwargs)
    assert first.shape == (2, 3, dim)
    assert torch.allclose(first, expected[:, :3], atol=1e-5)


@pytest.mark.parametrize('query_heads', ['own', 'first'])
def test_rpe_block_num_queries_gives_the_first_rows(query_heads):
    """A block queried by its first rows only returns those rows of the full block,
    in eval and, with the same stochastic-depth draws, in training (gradients too)."""
    torch.manual_seed(0)
    blk = RPEBlock(24, 3, grid='per_modality', rpe_query_heads=query_heads,
                   drop_path=0.3)
    with torch.no_grad():
        blk.attn.rpe_k.lookup_table_weight.normal_()
    x = torch.randn(4, 1 + 9, 24)
    for training in (False, True):
        blk.train(training)
        torch.manual_seed(1)
        full = blk(x, (3, 3))
        torch.manual_seed(1)
        cls = blk(x, (3, 3), num_queries=1)
        assert cls.shape == (4, 1, 24)
        assert torch.allclose(cls, full[:, :1], atol=1e-6)
    blk.train()
    grads = []
    for nq in (None, 1):
        blk.zero_grad()
        torch.manual_seed(1)
        out = blk(x, (3, 3), num_queries=nq)
        out[:, 0].square().sum().backward()
        grads.append(blk.attn.qkv.weight.grad.clone())
    assert grads[0].abs().sum() > 0
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


# ------------------------------------------------------------------- sin-cos positions
def _mae_2d_sincos(embed_dim, grid_size, step=1.0):
    """MAE's numpy get_2d_sincos_pos_embed (float64), grid coordinates times ``step``."""

    def one_d(dim, pos):
        omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
        omega = 1.0 / 10000**omega
        out = np.einsum('m,d->md', pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0) * step
    return np.concatenate(
        [one_d(embed_dim // 2, grid[0]),
         one_d(embed_dim // 2, grid[1])], 1)


def test_sincos_with_scale_hand_case():
    pe = get_2d_sincos_pos_embed_with_scale(4, 2, scale=2.0)
    s, c = math.sin(2.0), math.cos(2.0)
    # token (row i, col j) -> [sin(2j), cos(2j), sin(2i), cos(2i)], row-major
    expected = torch.tensor([[0, 1, 0, 1], [s, c, 0, 1], [0, 1, s, c], [s, c, s, c]],
                            dtype=torch.float32)
    assert pe.shape == (1, 4, 4)
    assert torch.allclose(pe[0], expected, atol=1e-6)


@pytest.mark.parametrize('scale', [1.0, 2.0, 0.5, 4.0])
def test_sincos_with_scale_matches_mae(scale):
    pe = get_2d_sincos_pos_embed_with_scale(32, 5, scale, cls_token=True)
    assert pe.shape == (1, 26, 32) and pe.dtype == torch.float32
    assert not pe[0, 0].any()
    mae = torch.from_numpy(_mae_2d_sincos(32, 5, scale)).float()
    assert torch.allclose(pe[0, 1:], mae, atol=1e-5)
    extra = get_2d_sincos_pos_embed_with_scale(
        32, 5, scale, cls_token=True, num_extra_tokens=1)
    assert extra.shape == (1, 27, 32) and torch.equal(extra[:, 2:], pe[:, 1:])


def test_sincos_with_resolution():
    # a 20 m patch (scale 2) of 2 m aerial sub-patches: 10 x 10 positions every 2 m
    pe = get_2d_sincos_pos_embed_with_resolution(16, 2, 2.0, cls_token=True)
    assert pe.shape == (1, 101, 16)
    mae = torch.from_numpy(_mae_2d_sincos(16, 10, 2.0)).float()
    assert torch.allclose(pe[0, 1:], mae, atol=1e-5)
    assert get_2d_sincos_pos_embed_with_resolution(16, 2, 250.0).shape == (1, 1, 16)


# ----------------------------------------------------------------------------- MIL-NCE
def _milnce_brute_force(tokens, tau):
    b, m, n, _ = tokens.shape
    total, count = 0.0, 0
    for bi in range(b):
        for mi in range(m):
            for ni in range(n):
                f = tokens[bi, mi, ni]
                pos, neg = [], []
                for bj in range(b):
                    for mj in range(m):
                        for nj in range(n):
                            g = tokens[bj, mj, nj]
                            s = (f @ g / (f.norm() * g.norm())).item() / tau
                            if bj == bi and mj == mi:
                                continue  # same tile, same modality: excluded
                            neg.append(s)
                            if bj == bi and nj == ni:
                                pos.append(s)
                total += np.logaddexp.reduce(neg) - np.logaddexp.reduce(pos)
                count += 1
    return total / count


def test_milnce_matches_brute_force():
    torch.manual_seed(0)
    tokens = torch.randn(2, 3, 4, 8)
    loss = MODELS.build(dict(type='eofm.MILNCELoss'))(tokens)
    assert loss.item() == pytest.approx(_milnce_brute_force(tokens, 0.1), rel=1e-5)
    as_list = MILNCELoss()([tokens[:, i] for i in range(3)])
    assert as_list.item() == pytest.approx(loss.item(), rel=1e-6)
    assert MILNCELoss(tau=0.5)(tokens).item() == pytest.approx(
        _milnce_brute_force(tokens, 0.5), rel=1e-5)


def test_milnce_hand_checked_tiny_case():
    # one tile, 2 modalities, 2 orthogonal patches identical across modalities: every
    # token sees its positive (cos 1) and one negative (cos 0) from the other modality
    e = torch.eye(2)
    tokens = torch.stack([e, e])[None]  # (1, 2, 2, 2)
    # tau = 0.5: log(e^2 + e^0) - 2 per token
    assert MILNCELoss(tau=0.5)(tokens).item() == pytest.approx(
        math.log(1 + math.exp(-2)), rel=1e-5)
    assert MILNCELoss()(tokens).item() == pytest.approx(
        math.log(1 + math.exp(-10)), abs=1e-6)
    # all tokens equal: 2 terms in the denominator (the other modality's two patches),
    # 1 positive -> log 2; the own modality's other patch is excluded (else log 3)
    assert MILNCELoss()(torch.ones(1, 2, 2, 2)).item() == pytest.approx(
        math.log(2), rel=1e-5)
    with pytest.raises(ValueError):
        MILNCELoss()(torch.randn(2, 1, 4, 8))


# ------------------------------------------------------------------- metric patching
def test_patchify_aligned_common_grid():
    aerial = torch.randn(2, 4, 300, 300)  # 0.2 m, 60 m tile
    s2 = torch.randn(2, 5, 10, 6, 6)  # 10 m time series
    patches, grid = patchify_aligned({
        'aerial': aerial,
        's2': s2
    }, {
        'aerial': 0.2,
        's2': 10
    },
                                     patch_size=10)
    assert grid == (6, 6)
    assert patches['aerial'].shape == (2, 36, 4, 50, 50)
    assert patches['s2'].shape == (2, 36, 5, 10, 1, 1)
    k, (i, j) = 13, divmod(13, 6)
    assert torch.equal(patches['aerial'][:, k], aerial[:, :, 50 * i:50 * (i + 1),
                                                       50 * j:50 * (j + 1)])
    assert torch.equal(patches['s2'][:, k, :, :, 0, 0], s2[:, :, :, i, j])
    coarse, grid = patchify_aligned({'s2': s2}, {'s2': 10}, patch_size=20)
    assert grid == (3, 3) and coarse['s2'].shape == (2, 9, 5, 10, 2, 2)


def test_patchify_aligned_errors_name_the_modality():
    x = {'aerial': torch.randn(1, 4, 300, 300), 's2': torch.randn(1, 5, 10, 6, 6)}
    gsd = {'aerial': 0.2, 's2': 10}
    with pytest.raises(ValueError, match=r's2: the GSD 10 m does not divide the patch'):
        patchify_aligned(x, gsd, patch_size=15)
    with pytest.raises(
            ValueError, match=r'aerial: the patch size 40 m does not divide'):
        patchify_aligned(x, gsd, patch_size=40)
    with pytest.raises(ValueError, match=r's1: tile of 50 m x 50 m differs'):
        patchify_aligned({
            's2': x['s2'],
            's1': torch.randn(1, 5, 2, 5, 5)
        }, {
            's2': 10,
            's1': 10
        },
                         patch_size=10)
