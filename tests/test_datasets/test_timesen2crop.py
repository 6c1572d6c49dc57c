"""TimeSen2Crop from a fake official layout, built from its base config: splits, items,
dates and the errors for bad layouts."""
import numpy as np
import pytest

import eofm.datasets.timesen2crop  # noqa: F401
from tests.helpers.dataset_helpers import build_by_name as _build, cls_batch as _batch
from tests.helpers.fake_data.timesen2crop import make_timesen2crop, value


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
