"""SkySense's six release files: layout, strict loading, conversion, wrong files."""
import os.path as osp

import pytest
import torch

from eofm.models import SkySense, SkySenseSwinV2, SkySenseViT
from eofm.models.common import PretrainedMismatchError, empty_weights, load_pretrained
from eofm.models.skysense import merge_release, release_layout, split_release
from eofm.models.skysense.release import RELEASE_FILES
from eofm.models.skysense.vit import DATE_TABLE_KEYS

TINY = dict(arch='tiny', up_head=dict(scale=1))


@pytest.fixture(scope='module')
def huge_files():
    """Release-layout tensor dicts of the paper model, on the meta device."""
    with empty_weights():
        model = SkySense('huge')
    return model, release_layout(model.state_dict(), root='')


def test_release_key_names_and_shapes(huge_files):
    _, files = huge_files
    hr, s2, s1 = files['hr'], files['s2'], files['s1']
    expect = {
        'backbone.patch_embed.projection.weight': (352, 3, 4, 4),
        'backbone.stages.0.blocks.0.attn.w_msa.cpb_mlp.0.weight': (512, 2),
        'backbone.stages.0.blocks.0.attn.w_msa.cpb_mlp.2.weight': (8, 512),
        'backbone.stages.0.blocks.0.attn.w_msa.qkv.weight': (1056, 352),
        'backbone.stages.1.downsample.reduction.weight': (704, 1408),
        'backbone.stages.2.downsample.reduction.weight': (1408, 2816),
        'backbone.stages.3.downsample.reduction.weight': (2816, 5632),
        'backbone.norm3.weight': (2816, ),
    }
    for k, shape in expect.items():
        assert tuple(hr[k].shape) == shape, k
    for key in ('logit_scale', 'q_bias', 'v_bias', 'proj.weight'):
        assert f'backbone.stages.0.blocks.0.attn.w_msa.{key}' in hr
    assert {f'backbone.stages.2.blocks.{i}.norm3.weight'
            for i in (5, 11, 17)} <= set(hr)
    assert not any('relative_' in k for k in hr)  # rebuilt buffers, not in the file
    assert tuple(s2['patch_embed.projection.weight'].shape) == (1024, 10, 4, 4)
    assert 'patch_embed.projection.bias' in s2
    assert tuple(s1['patch_embed.projection.weight'].shape) == (1024, 2, 4, 4)
    assert tuple(s2['cls_token'].shape) == (1, 1, 1024)
    assert tuple(s2['pos_embed'].shape) == (1, 257, 1024)
    assert tuple(s2['layers.0.attn.attn.in_proj_weight'].shape) == (3072, 1024)
    assert tuple(s2['layers.23.ffn.layers.0.0.weight'].shape) == (4096, 1024)
    assert 'layers.0.ffn.layers.1.weight' in s2 and 'layers.24.ln1.weight' not in s2
    assert tuple(s2['ctpe'].shape) == (1, 365, 2816) and 'ctpe' not in s1
    assert tuple(files['head_s2']['decoder.0.weight'].shape) == (2816 * 16, 1024, 1, 1)
    assert set(files['head_s1']) == {'decoder.0.weight', 'decoder.0.bias'}
    fusion = files['fusion']
    assert tuple(fusion['porj_linear.weight'].shape) == (1024, 2816)
    assert tuple(fusion['cls_token'].shape) == (1, 1, 1024)
    assert 'layers.23.attn.attn.in_proj_weight' in fusion and 'layers.24.ln1.bias' \
        not in fusion


def test_paper_model_loads_every_file_with_no_missing_or_unexpected(huge_files):
    model, files = huge_files
    hr = dict(files['hr'],
              **{'backbone.mask_token': torch.zeros(1, 1, 352, device='meta')})
    out = load_pretrained(
        model.hr, {'model': hr},
        'backbone',
        ignore_keys=('mask_token', ),
        allow_missing=(r'.*\.relative_', ))
    assert out['ignored'] == ['mask_token']
    assert all('relative_' in k for k in out['missing'])
    # the S2 file also holds the fusion's date table, which eofm keeps with the fusion
    s2 = load_pretrained(model.s2, files['s2'], ignore_keys=DATE_TABLE_KEYS)
    assert s2['missing'] == [] and s2['ignored'] == ['ctpe']
    assert load_pretrained(model.s1, {'state_dict': files['s1']})['missing'] == []
    for m in ('s2', 's1'):
        assert load_pretrained(model.up_heads[m], files[f'head_{m}'])['missing'] == []
    prefixed = {'backbone.' + k: v for k, v in files['fusion'].items()}
    prefixed['backbone.ctpe'] = files['s2']['ctpe']
    assert load_pretrained(model.fusion, prefixed, 'backbone')['missing'] == []


def _save_release(model, folder, hr_wrapper='model', fusion_prefix='backbone.'):
    """Write the six files as released from a (tiny) model; returns their paths."""
    files = release_layout(model.state_dict(), root='')
    files['hr']['backbone.mask_token'] = torch.randn(1, 1, model.hr.embed_dims)
    files['fusion'] = {fusion_prefix + k: v for k, v in files['fusion'].items()}
    paths = {}
    for role, tensors in files.items():
        obj = {hr_wrapper: tensors} if role == 'hr' and hr_wrapper else tensors
        paths[role] = str(folder / RELEASE_FILES[role][0])
        torch.save(obj, paths[role])
    return paths


def _pretrained(path, prefix=None):
    return dict(init_cfg=dict(type='Pretrained', checkpoint=path, prefix=prefix))


@pytest.mark.parametrize('hr_wrapper,fusion_prefix', [('model', 'backbone.'),
                                                      (None, ''), ('state_dict', '')])
def test_tiny_release_files_round_trip_through_init_cfg(tmp_path, hr_wrapper,
                                                        fusion_prefix):
    torch.manual_seed(0)
    src = SkySense(**TINY)
    src.init_weights()
    paths = _save_release(src, tmp_path, hr_wrapper, fusion_prefix)
    dst = SkySense(
        **TINY,
        hr=_pretrained(paths['hr'], 'backbone'),
        s2=_pretrained(paths['s2']),
        s1=_pretrained(paths['s1']),
        fusion=_pretrained(paths['fusion']),
        up_heads=dict(
            s2=_pretrained(paths['head_s2']), s1=_pretrained(paths['head_s1'])))
    dst.init_weights()
    a, b = src.state_dict(), dst.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_converter_merge_split_is_lossless(tmp_path):
    from tools.model_converters.skysense2eofm import main
    torch.manual_seed(1)
    src = SkySense(**TINY)
    src.init_weights()
    rel = tmp_path / 'release'
    rel.mkdir()
    paths = _save_release(src, rel)
    main(['merge', str(rel), str(tmp_path / 'eofm.pth')])
    main(['split', str(tmp_path / 'eofm.pth'), str(tmp_path / 'back')])
    for role, path in paths.items():
        orig = torch.load(path, weights_only=True)
        back = torch.load(
            str(tmp_path / 'back' / osp.basename(path)), weights_only=True)
        assert list(orig) == list(back), role  # wrapper
        o, b = (orig.get('model', orig), back.get('model', back))
        assert list(o) == list(b), role  # key order and prefixes
        assert all(torch.equal(o[k], b[k]) for k in o), role
    # The merged file loads into the whole backbone (and nothing is left over).
    dst = SkySense(
        **TINY,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'eofm.pth'),
            prefix='backbone'))
    dst.init_weights()
    assert all(torch.equal(v, dst.state_dict()[k]) for k, v in src.state_dict().items())


def test_merge_without_record_splits_to_default_layout():
    torch.manual_seed(2)
    model = SkySense(**TINY)
    merged = {'backbone.' + k: v for k, v in model.state_dict().items()}
    files = split_release(dict(state_dict=merged))
    assert set(files) == set(RELEASE_FILES)
    assert all(k.startswith('backbone.') for k in files['hr'])
    again = merge_release(files)['state_dict']
    assert set(again) == {k for k in merged if 'relative_' not in k}


def test_wrong_file_names_module_and_keys(tmp_path):
    s1 = SkySenseViT('skysense-tiny', in_channels=2)
    torch.save(s1.state_dict(), tmp_path / 's1.pth')
    s2 = SkySenseViT(
        'skysense-tiny',
        in_channels=10,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 's1.pth')))
    with pytest.raises(PretrainedMismatchError) as e:
        s2.init_weights()
    msg = str(e.value)
    assert msg.startswith('SkySenseViT: ') and 's1.pth does not fit' in msg
    assert 'patch_embed.projection.weight: file (64, 2, 4, 4), module (64, 10, 4, 4)' \
        in msg
    hr = SkySenseSwinV2(
        'skysense-tiny',
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 's1.pth')))
    with pytest.raises(
            PretrainedMismatchError,
            match=r"(?s)SkySenseSwinV2: .*does not "
            r"fit.*missing: \['patch_embed.norm.weight'.*unexpected: "
            r"\['cls_token', 'pos_embed'"):
        hr.init_weights()


def test_rgb_weights_into_rgbn_copy_the_red_kernel(tmp_path):
    rgb = SkySenseSwinV2('skysense-tiny', in_channels=3)
    torch.save({
        'backbone.' + k: v
        for k, v in rgb.state_dict().items()
    }, tmp_path / 'hr.pth')
    rgbn = SkySenseSwinV2(
        'skysense-tiny',
        in_channels=4,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'hr.pth'), prefix='backbone'))
    rgbn.init_weights()
    w, w4 = rgb.patch_embed.projection.weight, rgbn.patch_embed.projection.weight
    assert torch.equal(w4[:, :3], w) and torch.equal(w4[:, 3], w[:, 0])
    gray = SkySenseSwinV2(
        'skysense-tiny',
        in_channels=1,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'hr.pth')))
    gray.init_weights()
    assert torch.allclose(gray.patch_embed.projection.weight[:, 0], w.sum(1))


def test_fig_k16_v1_config_stops_with_the_config_to_use(tmp_path):
    from mmpretrain.models.backbones import SwinTransformer
    v2 = SkySenseSwinV2('skysense-tiny')
    torch.save({
        'backbone.' + k: v
        for k, v in v2.state_dict().items()
    }, tmp_path / 'skysense_swin_huge_ghr.pth')
    v1 = SwinTransformer(
        arch=dict(embed_dims=32, depths=[1, 1, 2, 1], num_heads=[1, 2, 4, 8]),
        window_size=7,
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint=str(tmp_path / 'skysense_swin_huge_ghr.pth')))
    with pytest.raises(
            ValueError,
            match=r'holds Swin Transformer V2 weights.*'
            r"eofm.SkySenseSwinV2.*skysense-hr_swinv2-h_8xb32-100e_aid"):
        v1.init_weights()


def test_shipped_hr_classification_config_loads_release_weights(tmp_path, repo_root):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    import mmpretrain.utils
    cfg = Config.fromfile(
        osp.join(repo_root, 'configs/skysense/'
                 'skysense-hr_swinv2-h_8xb32-100e_aid-224px.py'))
    assert cfg.model.backbone.type == 'eofm.SkySenseSwinV2'
    src = SkySenseSwinV2('skysense-tiny')
    path = str(tmp_path / 'skysense_swin_huge_ghr.pth')
    torch.save({'model': {
        'backbone.' + k: v
        for k, v in src.state_dict().items()
    }}, path)
    cfg.model.backbone.update(
        arch='skysense-tiny',
        init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone'))
    cfg.model.head.in_channels = 256
    mmpretrain.utils.register_all_modules(False)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = PRETRAIN_MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.norm3.weight, src.norm3.weight)
    model.eval()
    with torch.no_grad():
        scores = model(torch.randn(2, 3, 224, 224), mode='tensor')
    assert scores.shape == (2, 30)


def test_date_table_has_one_owner_and_old_layout_checkpoints_load(tmp_path):
    """The fusion owns ``ctpe``; the release's S2 file and eofm checkpoints written
    with the table under ``s2.ctpe`` (the release's place) load it there."""
    torch.manual_seed(3)
    src = SkySense(**TINY)
    src.init_weights()
    state = src.state_dict()
    assert 'fusion.ctpe' in state and not any(k.startswith('s2.') and 'ctpe' in k
                                              for k in state)
    assert 'ctpe' in release_layout(state, root='')['s2']
    assert 'ctpe' not in release_layout(state, root='')['fusion']
    old = {('s2.ctpe' if k == 'fusion.ctpe' else k): v for k, v in state.items()}
    dst = SkySense(**TINY)
    res = dst.load_state_dict(old, strict=False)
    assert not res.unexpected_keys  # (mmpretrain's Swin V2 rebuilds relative_*)
    assert all('relative_' in k for k in res.missing_keys)
    assert torch.equal(dst.fusion.ctpe, src.fusion.ctpe)
    torch.save({'state_dict': {'backbone.' + k: v for k, v in old.items()}},
               tmp_path / 'old.pth')
    via_init = SkySense(
        **TINY,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'old.pth'),
                      prefix='backbone'))
    via_init.init_weights()
    assert torch.equal(via_init.fusion.ctpe, src.fusion.ctpe)


def test_s2_file_without_date_table_names_it(tmp_path):
    src = SkySense(**TINY)
    files = release_layout(src.state_dict(), root='')
    files['s2'].pop('ctpe')
    torch.save(files['s2'], tmp_path / 's2.pth')
    dst = SkySense(**TINY, s2=_pretrained(str(tmp_path / 's2.pth')))
    with pytest.raises(PretrainedMismatchError, match='date table `ctpe`'):
        dst.init_weights()
