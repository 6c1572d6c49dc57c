"""SICKLE from a fake official layout, built from its base config."""
import os.path as osp

import numpy as np
import pytest
import torch

import eofm.datasets.sickle  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.datasets.sickle import sickle_file_date
from eofm.models import MultiModalDataPreprocessor
from tests.helpers.dataset_helpers import build_by_name as _build
from tests.helpers.fake_data.sickle import band_value, make_sickle


# ----------------------------------------------------------------------- SICKLE
@pytest.fixture(scope='module')
def sickle_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('sickle')
    make_sickle(root)
    return root


def test_sickle_scan_dates(sickle_root):
    ds, _ = _build('sickle', sickle_root)
    assert len(ds) == 2 and ds.metainfo['classes'] == ('paddy', 'non-paddy')
    info = ds.get_data_info(0)
    assert info['sample_id'] == '1' and info['plot_id'] == 11
    s2 = info['modalities']['s2']
    assert s2['dates'] == ['2018-01-05', '2018-01-20', '2018-03-01']
    assert osp.basename(s2['paths'][0]).startswith('T44PKV_20180105')
    assert s2['format'] == 'npz' and s2['keys'][8] == 'B8A'
    assert info['modalities']['s1']['dates'] == ['2018-01-10', '2018-02-10']
    assert info['modalities']['l8']['dates'] == ['2018-01-27', '2018-02-12']
    val, _ = _build('sickle', sickle_root, 'val_dataloader')
    assert len(val) == 1 and val.get_data_info(0)['sample_id'] == '3'
    assert sickle_file_date('l8', 'LC08_1_20200101.npz') == '2020-01-01'


def test_sickle_items(sickle_root):
    ds, cfg = _build('sickle', sickle_root, 'val_dataloader')
    item = ds[0]
    x, sample = item['inputs'], item['data_samples']
    assert x['s2'].shape == (50, 10, 32, 32) and x['s2_date_mask'].sum() == 3
    assert x['s1'].shape == (50, 2, 32, 32)
    assert x['l8'].shape == (50, 8, 32, 32)  # 11 x 11 px resampled to 32 x 32
    # S2 in the reference's order: B8A (key 8) before B8 (key 7)
    assert x['s2'][0, 6, 0, 0].item() == band_value(3, 0, 8)
    assert x['s2'][0, 7, 0, 0].item() == band_value(3, 0, 7)
    assert x['s2'][2, 0, 0, 0].item() == band_value(3, 2, 1)  # B2, 3rd date
    assert x['l8'][1, 7, 31, 31].item() == band_value(3, 1, 7)
    assert x['s1_doy'][:2].tolist() == [10, 41]
    seg = sample.gt_seg_map
    assert seg.shape == (32, 32)
    assert (seg[:, :16] == 1).all()  # own plot, code 2: non-paddy
    assert (seg[:16, 16:] == 0).all()  # plot 13 is in val, code 1: paddy
    assert (seg[16:, 16:] == 255).all()  # no plot
    # training sample 1: paddy plot; plot 13 (val) ignored
    train, _ = _build('sickle', sickle_root)
    seg = train[0]['data_samples'].gt_seg_map
    assert (seg[:, :16] == 0).all() and (seg[:, 16:] == 255).all()
    assert (train[1]['data_samples'].gt_seg_map[:, :16] == 1).all()
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='seg')
    out = pre(multimodal_collate([ds[0], ds[0]]))
    assert out['inputs']['l8'].shape == (2, 50, 8, 32, 32)
    assert torch.equal(out['data_samples'][0].gt_sem_seg.data[0],
                       ds[0]['data_samples'].gt_seg_map)


def test_sickle_errors(sickle_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='sickle_dataset_tabular.csv'):
        _build('sickle', tmp_path)
    (tmp_path / 'sickle_dataset_tabular.csv').write_text('UNIQUE_ID,SPLIT\n1,train\n')
    with pytest.raises(ValueError, match=r"columns \['PLOT_ID'\] are missing"):
        _build('sickle', tmp_path)
    (tmp_path /
     'sickle_dataset_tabular.csv').write_text('UNIQUE_ID,PLOT_ID,SPLIT\n7,70,train\n')
    with pytest.raises(FileNotFoundError, match=r'7\.tif'):
        _build('sickle', tmp_path)
    (tmp_path / 'masks' / '10m').mkdir(parents=True)
    (tmp_path / 'masks' / '10m' / '7.tif').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='sample 7 has no archives'):
        _build('sickle', tmp_path)
    folder = tmp_path / 'images' / 'S1' / 'npy' / '7'
    folder.mkdir(parents=True)
    np.savez(folder / 'S1A_IW_GRDH_1SDV_2018XX10_x.npz', VV=np.zeros((2, 2)))
    with pytest.raises(ValueError, match='is not a YYYYMMDD date'):
        _build('sickle', tmp_path)
    # an archive without a band key: named at load time
    root = tmp_path / 's'
    root.mkdir()
    make_sickle(root)
    name = 'LC08_142052_20180127.npz'
    np.savez(root / 'images' / 'L8' / 'npy' / '3' / name, SR_B1=np.zeros((11, 11)))
    ds, _ = _build('sickle', root, 'val_dataloader')
    with pytest.raises(ValueError, match=r"key 'SR_B2' not found"):
        ds[0]
