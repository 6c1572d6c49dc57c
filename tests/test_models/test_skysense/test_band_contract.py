"""The band contract through a whole-backbone SkySense checkpoint: the trained bands
come from the checkpoint's data contract."""
import pytest
import torch

from eofm.models import SkySense
from eofm.structures.bands import BandMismatchError
from eofm.utils.checkpoint import DATA_CONTRACT_KEY

S2 = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')
KEY = 's2.patch_embed.projection.weight'


def _pretrained(tmp_path, meta=True):
    torch.manual_seed(0)
    src = SkySense(arch='tiny', modalities=('s2', 's1'), up_head=dict(scale=1))
    src.init_weights()
    path = tmp_path / 'pre.pth'
    contract = {DATA_CONTRACT_KEY: dict(s2=dict(bands=list(S2)), s1=dict(
        bands=['VV', 'VH']))} if meta else {}
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in src.state_dict().items()},
                    meta=contract), path)
    return src, str(path)


def _model(path, **s2):
    return SkySense(arch='tiny', modalities=('s2', 's1'), up_head=dict(scale=1),
                    s2=dict(s2), init_cfg=dict(type='Pretrained', checkpoint=path,
                                               prefix='backbone'))


def test_reordered_and_missing_bands_from_the_checkpoint_contract(tmp_path):
    src, path = _pretrained(tmp_path)
    given = ['B8', 'B4', 'B3', 'B2']
    model = _model(path, in_channels=4, bands=given, band_policy=dict(missing='mean'))
    model.init_weights()
    w, w0 = model.state_dict()[KEY], src.state_dict()[KEY]
    assert torch.equal(w, w0[:, [S2.index(b) for b in given]])
    # the other weights load unchanged
    assert torch.equal(model.state_dict()['s1.patch_embed.projection.weight'],
                       src.state_dict()['s1.patch_embed.projection.weight'])


def test_missing_band_without_policy_names_band_modality_and_checkpoint(tmp_path):
    _, path = _pretrained(tmp_path)
    model = _model(path, in_channels=4, bands=['B8', 'B4', 'B3', 'B2'])
    with pytest.raises(BandMismatchError) as e:
        model.init_weights()
    msg = str(e.value)
    assert 'SkySense.s2' in msg and 'B5' in msg and 'pre.pth' in msg


def test_reordered_input_gives_the_same_output(tmp_path):
    src, path = _pretrained(tmp_path)
    perm = [9, 0, 3, 1, 2, 8, 4, 5, 6, 7]
    model = _model(path, bands=[S2[i] for i in perm])
    model.init_weights()
    src.eval(), model.eval()
    g = torch.Generator().manual_seed(0)
    x = dict(s2=torch.randn(1, 2, 10, 16, 16, generator=g),
             s2_doy=torch.tensor([[10, 200]]), s1=torch.randn(1, 2, 2, 16, 16,
                                                             generator=g),
             s1_doy=torch.tensor([[12, 190]]))
    y = dict(x, s2=x['s2'][:, :, perm])
    assert torch.allclose(model(y)[0], src(x)[0], atol=1e-5)


def test_without_a_contract_the_encoder_s_trained_bands_serve(tmp_path):
    src, path = _pretrained(tmp_path, meta=False)
    with pytest.raises(ValueError, match=r'bands of the weights in .*pre.pth are '
                       r'unknown: set s2=dict\(trained_bands'):
        _model(path, in_channels=3, bands=['B4', 'B3', 'B2'],
               band_policy=dict(missing='mean')).init_weights()
    model = _model(path, in_channels=3, bands=['B4', 'B3', 'B2'], trained_bands=S2,
                   band_policy=dict(missing='mean'))
    model.init_weights()
    assert torch.equal(model.state_dict()[KEY], src.state_dict()[KEY][:, [2, 1, 0]])
