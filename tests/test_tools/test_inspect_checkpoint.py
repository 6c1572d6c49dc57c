"""inspect_checkpoint identifies each layout eofm supports from random-weight files."""
import hashlib
import os.path as osp

import pytest
import torch

from eofm.models import AnySat, OmniSat, SkySense
from eofm.models.skysense import release_layout
from eofm.models.skysense.release import RELEASE_FILES
from eofm.utils.checkpoint_info import (format_checkpoint_info, inspect_checkpoint,
                                        register_checkpoint_layout)
from tools.misc.inspect_checkpoint import main

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
OMNISAT_TINY = dict(
    embed_dim=64, depth=1, num_heads=4, mlp_ratio=2.0, patch_size=10.0, tile_size=20.0)


def _numel(tensors):
    return sum(v.numel() for v in tensors.values() if v.is_floating_point())


@pytest.fixture(scope='module')
def skysense_files(tmp_path_factory):
    """SkySense's six files as released (HR under 'model' with 'backbone.' keys and
    a mask token), written from a tiny random model."""
    folder = tmp_path_factory.mktemp('skysense_release')
    torch.manual_seed(0)
    model = SkySense(arch='tiny', up_head=dict(scale=1))
    files = release_layout(model.state_dict(), root='')
    files['hr']['backbone.mask_token'] = torch.randn(1, 1, model.hr.embed_dims)
    paths = {}
    for role, tensors in files.items():
        paths[role] = str(folder / RELEASE_FILES[role][0])
        torch.save({'model': tensors} if role == 'hr' else tensors, paths[role])
    return model, files, paths


@pytest.mark.parametrize('role, what, config', [
    ('hr', 'Swin V2 HR encoder', 'skysense-hr_upernet_8xb2-80k_isaid-896x896.py'),
    ('s2', 'Sentinel-2 ViT encoder', None),
    ('s1', 'Sentinel-1 ViT encoder', None),
    ('head_s2', 'up head', None),
    ('head_s1', 'up head', None),
    ('fusion', 'temporal fusion', None),
])
def test_each_skysense_release_file(skysense_files, role, what, config):
    model, files, paths = skysense_files
    info = inspect_checkpoint(paths[role], CONFIGS)
    assert len(info['matches']) == 1
    m = info['matches'][0]
    assert m['model'] == 'SkySense'
    assert m['layout'] == f'release file {RELEASE_FILES[role][0]} ({what})'
    assert m['prefix'] == ('backbone.' if role == 'hr' else '')
    assert info['parameters'] == _numel(files[role])
    with open(paths[role], 'rb') as f:
        assert info['sha256'] == hashlib.sha256(f.read()).hexdigest()
    assert info['container'] == ("tensor dict wrapped in 'model'"
                                 if role == 'hr' else 'bare tensor dict')
    # a config that loads this very file is listed
    stem = RELEASE_FILES[role][0][len('skysense_model_'):-len('.pth')]
    assert info['configs'], role
    for c in info['configs']:
        with open(osp.join(osp.dirname(CONFIGS), c)) as f:
            text = f.read()
        assert RELEASE_FILES[role][0] in text or f"format('{stem}')" in text, c
    if config:
        assert any(c.endswith(config) for c in info['configs'])
    details = m['details']
    if role == 'hr':
        assert details['embed_dims'] == model.hr.embed_dims and details['mask_token']
        assert details['in_channels'] == 3
    if role == 's2':
        assert details['in_channels'] == 10 and 'ctpe' in details
    if role == 's1':
        assert details['in_channels'] == 2


def test_head_file_under_another_name_is_named_by_its_layout(skysense_files, tmp_path):
    _, files, _ = skysense_files
    path = str(tmp_path / 'head.pth')
    torch.save(files['head_s1'], path)
    m = inspect_checkpoint(path, CONFIGS)['matches'][0]
    assert 'head_s2.pth or ..._head_s1.pth' in m['layout']


def test_anysat_release_file(tmp_path):
    torch.manual_seed(0)
    state = {
        k: torch.randn_like(v) if v.is_floating_point() else v
        for k, v in AnySat('tiny').state_dict().items()
    }
    path = str(tmp_path / 'AnySat.pth')
    torch.save(state, path)
    info = inspect_checkpoint(path, CONFIGS)
    assert [m['model'] for m in info['matches']] == ['AnySat']
    m = info['matches'][0]
    assert m['layout'] == "AnySat release layout (as AnySat.pth; arch 'custom')"
    assert len(
        m['details']['modalities']) == 11 and 's1-asc' in m['details']['modalities']
    assert info['parameters'] == _numel(state)
    assert info['configs'] and all(
        c.startswith(osp.join('configs', 'anysat')) for c in info['configs'])


def test_omnisat_reference_lightning_checkpoint(tmp_path):
    enc = OmniSat(arch=OMNISAT_TINY)
    state = {
        'model.encoder.' + k.replace('projector_s1_asc', 'projector_s1-asc'): v
        for k, v in enc.state_dict().items()
    }
    state['model.decoder.projector_s1-asc.decode.0.weight'] = torch.zeros(3)
    path = str(tmp_path / 'omnisat_ref.ckpt')
    torch.save(dict(state_dict=state, epoch=3, global_step=99), path)
    info = inspect_checkpoint(path, CONFIGS)
    assert info['container'] == 'Lightning checkpoint (state_dict, epoch, global_step)'
    assert len(info['matches']) == 1
    m = info['matches'][0]
    assert (m['model'], m['prefix']) == ('OmniSat', 'model.encoder.')
    assert m['layout'] == 'OmniSat reference encoder (dashed modality names)'
    assert m['details']['modalities'] == ['aerial', 's1-asc', 's2']
    assert m['details']['depth'] == 1
    assert any('omnisat' in c for c in info['configs'])


def test_eofm_checkpoint_with_meta(tmp_path):
    model = SkySense(arch='tiny', up_head=dict(scale=1))
    state = {'backbone.' + k: v for k, v in model.state_dict().items()}
    state['decode_head.conv_seg.weight'] = torch.randn(5, 8, 1, 1)
    meta = dict(
        bands=dict(s2=['B2', 'B3', 'B4', 'B8']),
        gsd=dict(s2=10.0),
        normalize=dict(s2=dict(mean=[0.1] * 4, std=[0.2] * 4)),
        epoch=2)
    path = str(tmp_path / 'iter_100.pth')
    torch.save(dict(meta=meta, state_dict=state, optimizer=dict(state={})), path)
    info = inspect_checkpoint(path, CONFIGS)
    assert info['container'] == 'eofm / mmengine checkpoint (meta, state_dict, ' \
        'optimizer)'
    assert len(info['matches']) == 1  # the whole model, not its parts
    m = info['matches'][0]
    assert (m['model'], m['prefix']) == ('SkySense', 'backbone.')
    assert m['details']['parts'] == ['fusion', 'head_s1', 'head_s2', 'hr', 's1', 's2']
    assert info['meta'] == {k: meta[k] for k in ('bands', 'gsd', 'normalize')}
    text = format_checkpoint_info(info)
    assert f'parameters: {_numel(state):,}' in text
    assert "bands: {'s2': ['B2', 'B3', 'B4', 'B8']}" in text
    assert "(keys under 'backbone.')" in text


def test_unknown_and_unsafe_files(tmp_path, capsys):
    path = str(tmp_path / 'other.pth')
    torch.save({'foo.weight': torch.zeros(2, 2)}, path)
    info = inspect_checkpoint(path, CONFIGS)
    assert info['matches'] == [] and info['configs'] == []
    assert 'unknown (no registered layout matches its keys)' in \
        format_checkpoint_info(info)
    assert main([path]) == 0
    assert 'sha256:' in capsys.readouterr().out
    # anything beyond tensors and mmengine's state is refused (weights_only=True)
    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save({'state_dict': {}, 'obj': _Pickled()}, unsafe)
    assert main([unsafe]) == 1
    err = capsys.readouterr().err
    assert 'unsafe.pth' in err and '_Pickled' in err


class _Pickled:
    pass


def test_layout_names_are_unique():

    def detector(state, filename):
        return None

    register_checkpoint_layout('test_only')(detector)
    register_checkpoint_layout('test_only')(detector)  # the same function: fine
    with pytest.raises(KeyError, match="'test_only' is registered twice"):
        register_checkpoint_layout('test_only')(lambda s, f: None)
    from eofm.utils.checkpoint_info import CHECKPOINT_LAYOUTS
    del CHECKPOINT_LAYOUTS['test_only']
