"""AnySat's band contract: per-modality projectors built for the data's bands and
loaded from the trained ones by name."""
import pytest
import torch

from eofm.models import AnySat
from eofm.structures.bands import BandMismatchError
from eofm.utils.checkpoint import DATA_CONTRACT_KEY

S2 = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')
S2_KEY = 'projector_s2.patch_embed.inconv.0.weight'
AERIAL_KEY = 'projector_aerial.patch_embed.weight'


def _release_like(tmp_path, contract=None):
    torch.manual_seed(0)
    src = AnySat(arch='tiny', modalities=['aerial', 's2'])
    src.init_weights()
    path = tmp_path / 'anysat.pth'
    meta = {DATA_CONTRACT_KEY: contract} if contract else {}
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in src.state_dict().items()},
                    meta=meta), path)
    return src, str(path)


def _model(path, **kw):
    return AnySat(arch='tiny', modalities=['aerial', 's2'], init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='backbone'), **kw)


def test_release_bands_reordered_and_missing(tmp_path):
    src, path = _release_like(tmp_path)
    # the aerial release order is NIR, G, B, R (TreeSatAI); the data give R, G, B
    model = _model(path, bands=dict(aerial=['R', 'G', 'B'], s2=['B8', 'B4', 'B3', 'B2']),
                   band_policy=dict(missing='mean'))
    assert model.specs['aerial']['in_channels'] == 3
    model.init_weights()
    w0, w = src.state_dict(), model.state_dict()
    assert torch.equal(w[AERIAL_KEY], w0[AERIAL_KEY][:, [3, 1, 2]])
    assert torch.equal(w[S2_KEY], w0[S2_KEY][:, [6, 2, 1, 0]])


def test_missing_band_without_policy_and_unknown_trained_bands(tmp_path):
    _, path = _release_like(tmp_path)
    with pytest.raises(BandMismatchError, match=r"AnySat.s2 .*anysat.pth.*B5"):
        _model(path, bands=dict(s2=['B8', 'B4', 'B3', 'B2'])).init_weights()
    with pytest.raises(ValueError, match='not built modalities'):
        AnySat(arch='tiny', modalities=['s2'], bands=dict(l8=['B1']))


def test_the_checkpoint_contract_names_the_trained_bands(tmp_path):
    """An eofm checkpoint whose S2 was trained on another order: its contract wins
    over the release default."""
    order = tuple(reversed(S2))
    src, path = _release_like(tmp_path, dict(s2=dict(bands=list(order))))
    model = _model(path, bands=dict(s2=list(S2)))
    model.init_weights()
    assert torch.equal(model.state_dict()[S2_KEY], src.state_dict()[S2_KEY].flip(1))
