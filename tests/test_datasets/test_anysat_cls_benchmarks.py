"""So2Sat LCZ42 and TimeSen2Crop from fake official layouts, built from their base
configs: samples, labels, dates, band handling and the errors for bad layouts."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

import eofm.datasets.so2sat  # noqa: F401
import eofm.datasets.timesen2crop  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers.fake_data.so2sat import SIZE, label_of, make_so2sat, sen2_value, write_so2sat_file
from tests.helpers.fake_data.timesen2crop import make_timesen2crop, value

CONFIGS = osp.join(osp.dirname(__file__), '../../configs/_base_/datasets/')


def _build(name, root, loader='train_dataloader', **overrides):
    cfg = Config.fromfile(CONFIGS + name + '.py')
    dataset = cfg[loader].dataset
    dataset.data_root = str(root)
    dataset.update(overrides)
    return DATASETS.build(dataset), cfg


def _batch(ds, cfg, indices=(0, 1)):
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='cls')
    return pre(multimodal_collate([ds[i] for i in indices]))


# ------------------------------------------------------------------- So2Sat
@pytest.fixture(scope='module')
def so2sat_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('so2sat')
    make_so2sat(root)
    return root


def test_so2sat_splits_labels_bands(so2sat_root):
    ds, cfg = _build('so2sat', so2sat_root)
    assert len(ds) == 5 and len(ds.metainfo['classes']) == 17
    assert ds.metainfo['classes'][10] == 'LCZ A dense trees'
    assert len(_build('so2sat', so2sat_root, 'val_dataloader')[0]) == 2
    assert len(_build('so2sat', so2sat_root, 'test_dataloader')[0]) == 2
    info = ds.get_data_info(3)
    assert info['modalities']['s2']['index'] == 3
    assert info['modalities']['s1']['key'] == 'sen1'
    item = ds[3]
    x, sample = item['inputs'], item['data_samples']
    assert x['s2'].shape == (1, 10, SIZE, SIZE)
    assert x['s2'][0, 6, 0, 0].item() == pytest.approx(sen2_value(6, 3))  # B8
    assert x['s2_doy'].tolist() == [182]  # placeholder date 2017-07-01
    # Lee-filtered VV, VH in dB, then VV - VH
    assert x['s1'].shape == (1, 3, SIZE, SIZE)
    assert x['s1'][0, :, 0, 0].tolist() == pytest.approx([-10.0, -20.0, 10.0], 1e-5)
    assert sample.gt_label.item() == label_of('training', 3)
    assert sample.sample_id == 'training_000003'
    out = _batch(ds, cfg, (0, 4))
    assert out['inputs']['s2'].shape == (2, 1, 10, SIZE, SIZE)
    assert [s.gt_label.tolist()
            for s in out['data_samples']] == [[label_of('training', 0)],
                                              [label_of('training', 4)]]


def test_so2sat_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='training.h5" does not exist'):
        _build('so2sat', tmp_path)
    with pytest.raises(ValueError, match='split must be one of'):
        _build('so2sat', tmp_path, split='holdout')
    bad = np.zeros((3, 17))
    bad[0, 1] = bad[1, 2] = 1
    write_so2sat_file(tmp_path / 'training.h5', 3, 'training', label=bad)
    with pytest.raises(FileNotFoundError, match='label row 2 is not one-hot'):
        _build('so2sat', tmp_path)
    write_so2sat_file(tmp_path / 'other.h5', 3, 'other', label=np.eye(3, 10))
    with pytest.raises(FileNotFoundError, match=r'expected \(N, 17\) one-hot'):
        _build('so2sat', tmp_path, h5_file='other.h5')
    import h5py
    with h5py.File(tmp_path / 'nos1.h5', 'w') as f:
        f['sen2'] = np.zeros((1, 4, 4, 10))
        f['label'] = np.eye(1, 17)
    with pytest.raises(FileNotFoundError, match=r"no dataset\(s\) \['sen1'\]"):
        _build('so2sat', tmp_path, h5_file='nos1.h5')


# -------------------------------------------------------------- TimeSen2Crop
@pytest.fixture(scope='module')
def ts2c_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('timesen2crop')
    make_timesen2crop(root)
    return root


def test_timesen2crop_splits(ts2c_root):
    train, _ = _build('timesen2crop', ts2c_root)
    val, _ = _build('timesen2crop', ts2c_root, 'val_dataloader')
    test, _ = _build('timesen2crop', ts2c_root, 'test_dataloader')
    ids = [train.get_data_info(i)['sample_id'] for i in range(len(train))]
    assert ids == [
        '33TUN/0/0', '33TUN/0/1', '33TUN/0/10', '33TUN/2/0', '33UVP/5/3', '33UVP/15/7'
    ]
    assert [val.get_data_info(i)['sample_id']
            for i in range(len(val))] == ['33UWP/12/0']
    assert [test.get_data_info(i)['sample_id']
            for i in range(len(test))] == ['T2019/1/0', 'T2019/1/1']
    assert len(train.metainfo['classes']) == 16
    assert train.metainfo['classes'][15] == 'Other Crops'
    explicit, _ = _build('timesen2crop', ts2c_root, tiles=['33UVP'])
    assert len(explicit) == 2
    other_val, _ = _build('timesen2crop', ts2c_root, val_tiles=['33UVP'])
    assert len(other_val) == 5  # 33TUN + 33UWP
    assert train.tile_dates['33UVP'][0] == '2017-09-10'
    assert train.tile_dates['33TUN'][0] == '2017-09-05'  # header skipped


def test_timesen2crop_items(ts2c_root):
    ds, cfg = _build('timesen2crop', ts2c_root)
    item = ds[3]  # 33TUN/2/0: 5 dates, cloud on date 1, snow on date 3
    x, sample = item['inputs'], item['data_samples']
    assert sample.gt_label.item() == 2
    assert x['s2'].shape == (3, 10, 1, 1)
    assert x['s2_doy'].tolist() == [248, 60, 232]  # 2017-09-05, 2018-03-01, 08-20
    assert sample.s2_dates == ['2017-09-05', '2018-03-01', '2018-08-20']
    s2 = x['s2'][:, :, 0, 0].numpy()
    # B2 of date 2 (kept index 1), reflectance
    assert s2[1, 0] == pytest.approx(value(0, 2, 2) / 1e4)
    assert s2[0, 7] == pytest.approx(value(6, 0, 2) / 1e4)  # B8A after the fill
    assert np.allclose(s2[:, 6], cfg.b8_fill)  # B8 filled with its mean
    assert 's2_flag' not in x
    # a pixel file without a header (33UVP), all dates clear except 1 and 3
    item = ds[4]
    assert item['inputs']['s2'].shape == (2, 10, 1, 1)
    assert item['data_samples'].gt_label.item() == 5
    assert item['data_samples'].s2_dates == ['2017-09-10', '2018-04-11']
    out = _batch(ds, cfg, (3, 4))
    assert out['inputs']['s2'].shape == (2, 3, 10, 1, 1)
    assert out['inputs']['s2_date_mask'].sum(1).tolist() == [3, 2]
    # B8 is 0 after normalisation
    assert out['inputs']['s2'][0, :, 6].abs().max().item() < 1e-6
    assert [s.gt_label.tolist() for s in out['data_samples']] == [[2], [5]]


def test_timesen2crop_errors(tmp_path, ts2c_root):
    with pytest.raises(FileNotFoundError, match='no tile folder with a dates.csv'):
        _build('timesen2crop', tmp_path)
    with pytest.raises(FileNotFoundError, match=r"tile folder\(s\) \['nope'\]"):
        _build('timesen2crop', ts2c_root, tiles=['nope'])
    with pytest.raises(ValueError, match='split must be'):
        _build('timesen2crop', ts2c_root, split='holdout')
    tile = tmp_path / 'T1'
    (tile / '16').mkdir(parents=True)
    (tile / 'dates.csv').write_text('20170901\n20170911\n')
    with pytest.raises(FileNotFoundError, match='is not a class folder 0 ... 15'):
        _build('timesen2crop', tmp_path, split='all')
    (tile / '16').rmdir()
    with pytest.raises(FileNotFoundError, match='has no class folders'):
        _build('timesen2crop', tmp_path, split='all')
    (tile / 'dates.csv').write_text('20170911\n20170901\n')
    (tile / '0').mkdir()
    with pytest.raises(FileNotFoundError, match='dates are not oldest first'):
        _build('timesen2crop', tmp_path, split='all')
    (tile / 'dates.csv').write_text('20170901\n2017-13-45\n')
    with pytest.raises(ValueError, match='cannot parse date'):
        _build('timesen2crop', tmp_path, split='all')
    # a pixel file whose rows do not match the tile's dates: the loader names it
    (tile / 'dates.csv').write_text('20170901\n20170911\n')
    (tile / '0' / '1.csv').write_text('1,2,3,4,5,6,7,8,9,0\n')
    ds, _ = _build('timesen2crop', tmp_path, split='all')
    with pytest.raises(Exception, match=r'T1/0/1.csv: .* 5 per date'):
        ds[0]
