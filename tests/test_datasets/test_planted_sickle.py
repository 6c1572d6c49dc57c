"""PLANTED and SICKLE from fake official layouts, built from their base configs."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

import eofm.datasets.planted  # noqa: F401
import eofm.datasets.sickle  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.datasets.planted import (PLANTED_CLASSES, milliseconds_to_dates, side_file)
from eofm.datasets.sickle import sickle_file_date
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers.fake_data.planted import INVALID, SHAPES, date_of, make_planted, pixel_value
from tests.helpers.fake_data.sickle import band_value, make_sickle

CONFIGS = osp.join(osp.dirname(__file__), '../../configs/_base_/datasets/')


def _build(name, root, loader='train_dataloader', **overrides):
    cfg = Config.fromfile(CONFIGS + name + '.py')
    dataset = cfg[loader].dataset
    dataset.data_root = str(root)
    dataset.update(overrides)
    return DATASETS.build(dataset), cfg


# ---------------------------------------------------------------------- PLANTED
@pytest.fixture(scope='module')
def planted_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('planted')
    make_planted(root)
    return root


def test_planted_scan_labels(planted_root):
    ds, _ = _build('planted', planted_root)
    assert len(ds) == 2 and len(ds.metainfo['classes']) == 40
    assert ds.metainfo['classes'] == PLANTED_CLASSES
    assert ds.metainfo['classes'][-1] == 'Theobroma cacao'
    info = ds.get_data_info(1)
    assert info['sample_id'] == '101' and info['gt_label'] == 39
    s2 = info['modalities']['s2']
    assert s2['format'] == 'npz' and s2['axes'] == 'THWC' and 'dates' not in s2
    assert s2['path'].endswith(osp.join('train', '101', '101_s2.npz'))
    assert side_file(s2, 'mask').endswith(osp.join('101', '101_s2_mask.npz'))
    assert len(_build('planted', planted_root, 'val_dataloader')[0]) == 1
    test = _build('planted', planted_root, 'test_dataloader')[0]
    assert test.get_data_info(0)['gt_label'] == 12


def test_planted_test_item(planted_root):
    ds, cfg = _build('planted', planted_root, 'val_dataloader')
    item = ds[0]
    x, sample = item['inputs'], item['data_samples']
    assert sample.gt_label.item() == 5 and sample.sample_id == '200'
    # native sizes, dates padded to the test lengths, ratio channels appended
    assert x['s2'].shape == (8, 10, 12, 12)
    assert x['s1'].shape == (8, 3, 12, 12)
    assert x['l7'].shape == (20, 6, 4, 4)
    assert x['alos'].shape == (4, 3, 4, 4)
    assert x['modis'].shape == (60, 7, 1, 1)
    assert x['s2_date_mask'].sum() == 3 and x['modis_date_mask'].sum() == 5
    assert x['s2'][2, 4, 0, 0].item() == pixel_value('200', 2, 4)
    assert x['s1'][1, 2, 5, 5].item() == pytest.approx(
        pixel_value('200', 1, 0) / pixel_value('200', 1, 1), rel=1e-5)
    doy = [date_of(t).timetuple().tm_yday for t in range(3)]
    assert x['s2_doy'][:3].tolist() == doy
    assert sample.s2_dates[:3] == [date_of(t).isoformat() for t in range(3)]
    # the mask file's invalid channel invalidates the pixel of that date
    y, px = INVALID['pixel']
    t = INVALID['date']
    assert not x['s2_mask'][t, y, px] and x['s2_mask'][:3].sum() == 3 * 144 - 1
    assert x['s2'][t, :, y, px].abs().sum() == 0
    assert x['s2_mask'][0, y, px]
    # batches through the data preprocessor
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='cls')
    out = pre(multimodal_collate([ds[0], ds[0]]))
    assert out['inputs']['modis'].shape == (2, 60, 7, 1, 1)
    assert out['data_samples'][0].gt_label.tolist() == [5]


def test_planted_train_temporal_dropout(planted_root):
    ds, _ = _build('planted', planted_root)
    x = ds[0]['inputs']
    # 5 of 8 s2 dates (3 real, padded), 14 of 20 l7 (4 real), 42 of 60 modis
    assert x['s2'].shape[0] == 5 and x['l7'].shape[0] == 14
    assert x['modis'].shape[0] == 42 and x['modis_date_mask'].sum() == 5
    assert x['alos'].shape[0] == 3 and x['alos_date_mask'].sum() == 2


def test_planted_errors(planted_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='labels2.json'):
        _build('planted', tmp_path)
    (tmp_path / 'train').mkdir()
    (tmp_path / 'train' / 'labels2.json').write_text('{"1": 40}')
    with pytest.raises(ValueError, match=r"tile '1' has label 40"):
        _build('planted', tmp_path)
    with pytest.raises(ValueError, match='unknown modalities'):
        _build('planted', planted_root, modalities=['s2', 'l8'])
    with pytest.raises(ValueError, match='split must be'):
        _build('planted', planted_root, split='training')
    # a tile without its timestamp file: named at load time
    ds, _ = _build('planted', planted_root, 'test_dataloader')
    ts = planted_root / 'test' / '300' / '300_alos_timestamp.npz'
    ts.rename(ts.with_suffix('.bak'))
    try:
        with pytest.raises(FileNotFoundError, match='300_alos_timestamp.npz'):
            ds[0]
    finally:
        ts.with_suffix('.bak').rename(ts)
    assert milliseconds_to_dates([0, 86400000]) == ['1970-01-01', '1970-01-02']


def test_planted_channel_count_checked(planted_root, tmp_path):
    # an l7 file with 7 channels instead of AnySat's 6: a clear error
    root = tmp_path / 'p'
    root.mkdir()
    make_planted(root)
    t, h, w, _ = SHAPES['l7']
    np.savez(root / 'val' / '200' / '200_l7.npz', np.zeros((t, h, w, 7), np.float32))
    ds, _ = _build('planted', root, 'val_dataloader')
    with pytest.raises(ValueError, match="names 6 bands for modality 'l7'"):
        ds[0]
    # a mask file that does not match its series
    np.savez(root / 'val' / '200' / '200_l7.npz', np.zeros((t, h, w, 6), np.float32))
    np.savez(root / 'val' / '200' / '200_s1_mask.npz', np.ones((2, 12, 12, 2)))
    with pytest.raises(ValueError, match=r'200_s1_mask\.npz: mask of shape'):
        ds[0]


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
