"""eofm.SpaceNet2PanSharpening reads the public SpaceNet-2 layout: PAN, MUL and
MUL-PanSharpen of each image on the PAN grid, 11-bit values scaled to [0, 1], the
every-10th validation split, split files and layout errors."""
import numpy as np
import pytest

from eofm.datasets import SpaceNet2PanSharpening
from eofm.datasets.transforms import LoadMultiModalTiles
from tests.helpers.fake_data.spacenet2 import make_spacenet2

PIPE = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            pan=dict(bands=['PAN'], scale='uint11', size=(32, 32)),
            ms=dict(scale='uint11', size=(32, 32)),
            pansharpen=dict(scale='uint11', size=(32, 32))),
        reference='pan'),
    dict(type='eofm.PackMultiModalInputs', modalities=['pan', 'ms', 'pansharpen']),
]


def _ids(ds):
    return [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]


def test_spacenet2_samples_and_values(tmp_path):
    make_spacenet2(tmp_path, size=32)
    ds = SpaceNet2PanSharpening(data_root=str(tmp_path), split='all', pipeline=PIPE)
    assert _ids(ds) == [
        'AOI_2_Vegas_img1', 'AOI_2_Vegas_img2', 'AOI_2_Vegas_img3', 'AOI_2_Vegas_img5',
        'AOI_3_Paris_img10', 'AOI_3_Paris_img11'
    ]
    info = ds.get_data_info(3)
    assert info['aoi_folder'] == 'AOI_2_Vegas_Train'
    assert info['modalities']['ms']['path'].endswith(
        'AOI_2_Vegas_Train/MUL/MUL_AOI_2_Vegas_img5.tif')
    assert info['modalities']['pansharpen']['bands'][3] == 'yellow'
    inputs = ds[3]['inputs']
    assert inputs['pan'].shape == (1, 32, 32)
    assert inputs['ms'].shape == inputs['pansharpen'].shape == (8, 32, 32)
    assert inputs['pan'][0, 5, 5].item() == pytest.approx(1000 / 2047)
    # the 8 x 8 px MUL upsampled onto the PAN grid, constant per band
    expected_ms = 100 * (np.arange(8) + 1) / 2047
    np.testing.assert_allclose(inputs['ms'][:, 16, 16].numpy(), expected_ms, rtol=1e-5)
    np.testing.assert_allclose(
        inputs['pansharpen'][:, 0, 0].numpy(), expected_ms + 5 / 2047, rtol=1e-5)
    assert bool(inputs['ms_mask'].all())


def test_spacenet2_splits(tmp_path):
    make_spacenet2(tmp_path, size=16)
    kw = dict(data_root=str(tmp_path), pipeline=[], val_interval=2)
    train = _ids(SpaceNet2PanSharpening(split='train', **kw))
    val = _ids(SpaceNet2PanSharpening(split='val', **kw))
    assert val == ['AOI_2_Vegas_img2', 'AOI_2_Vegas_img5', 'AOI_3_Paris_img11']
    assert train == ['AOI_2_Vegas_img1', 'AOI_2_Vegas_img3', 'AOI_3_Paris_img10']
    assert len(SpaceNet2PanSharpening(data_root=str(tmp_path), pipeline=[])) == 6
    paris = SpaceNet2PanSharpening(aois=['AOI_3_Paris_Train'], split='all', **kw)
    assert _ids(paris) == ['AOI_3_Paris_img10', 'AOI_3_Paris_img11']
    (tmp_path / 'split.txt').write_text('AOI_3_Paris_img11\nAOI_2_Vegas_img1\n')
    listed = SpaceNet2PanSharpening(split_file='split.txt', **kw)
    assert _ids(listed) == ['AOI_2_Vegas_img1', 'AOI_3_Paris_img11']


def test_spacenet2_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no samples found'):
        SpaceNet2PanSharpening(data_root=str(tmp_path), pipeline=[])
    with pytest.raises(ValueError, match='split'):
        SpaceNet2PanSharpening(data_root=str(tmp_path), split='test')
    make_spacenet2(tmp_path, size=16)
    (tmp_path / 'AOI_3_Paris_Train' / 'MUL' / 'MUL_AOI_3_Paris_img10.tif').unlink()
    with pytest.raises(FileNotFoundError, match='MUL_AOI_3_Paris_img10.tif'):
        SpaceNet2PanSharpening(data_root=str(tmp_path), split='all', pipeline=[])
    with pytest.raises(FileNotFoundError, match='AOI_9_Nowhere'):
        SpaceNet2PanSharpening(
            data_root=str(tmp_path), aois=['AOI_9_Nowhere_Train'], pipeline=[])


def test_uint11_scaling_is_registered():
    LoadMultiModalTiles(modalities=dict(pan=dict(scale='uint11')))
