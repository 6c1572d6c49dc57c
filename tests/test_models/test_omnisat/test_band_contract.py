"""OmniSat's band contract, including series projectors that take each band's k x k
pixels of a patch as channels."""
import pytest
import torch

from eofm.models import OmniSat
from eofm.structures.bands import BandMismatchError

S2 = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')
ARCH = dict(OmniSat.arch_zoo['pastis_hd'], embed_dim=32, depth=1, num_heads=4,
            patch_size=40.0, tile_size=160.0)  # 4 x 4 S2 pixels per patch


def _saved(tmp_path):
    torch.manual_seed(0)
    src = OmniSat(arch=ARCH, modalities=('spot', 's2'))
    src.init_weights()
    path = tmp_path / 'omnisat.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in src.state_dict().items()}),
               path)
    return src, str(path)


def test_series_kernels_move_by_band_with_their_pixels(tmp_path):
    src, path = _saved(tmp_path)
    given = ['B8', 'B4', 'B3', 'B2']
    model = OmniSat(arch=ARCH, modalities=('spot', 's2'), bands=dict(s2=given),
                    band_policy=dict(missing='mean'),
                    init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone'))
    model.init_weights()
    key = 'projector_s2.inconv.0.weight'
    w0 = src.state_dict()[key].reshape(32, 10, 16)  # band-major: 16 pixels a band
    w = model.state_dict()[key]
    assert w.shape == (32, 4 * 16)
    assert torch.equal(w.reshape(32, 4, 16), w0[:, [S2.index(b) for b in given]])


def test_missing_band_is_an_error_naming_it(tmp_path):
    _, path = _saved(tmp_path)
    model = OmniSat(arch=ARCH, modalities=('spot', 's2'), bands=dict(spot=['R', 'G']),
                    init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone'))
    with pytest.raises(BandMismatchError, match=r"OmniSat.spot .*omnisat.pth.*'B'"):
        model.init_weights()
