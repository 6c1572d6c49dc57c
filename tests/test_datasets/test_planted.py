"""PLANTED from a fake official layout, built from its base config."""
import os.path as osp

import numpy as np
import pytest

import eofm.datasets.planted  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.datasets.planted import (PLANTED_CLASSES, milliseconds_to_dates, side_file)
from eofm.models import MultiModalDataPreprocessor
from tests.helpers.dataset_helpers import build_by_name as _build
from tests.helpers.fake_data.planted import INVALID, SHAPES, date_of, make_planted, pixel_value


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
