"""DynamicEarthNet from fake official layouts."""
import pytest

from tests.helpers.dataset_helpers import (build_by_name as _build,
                                           series_batch as _batch)
from tests.helpers.fake_data.dynamic_earthnet import label_value, make_dynamic_earthnet


# --------------------------------------------------------------- DynamicEarthNet
@pytest.fixture(scope='module')
def den_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('den')
    make_dynamic_earthnet(root)
    return root


def test_dynamic_earthnet_splits_and_sample(den_root):
    ds, cfg = _build('dynamic_earthnet', den_root)
    counts = [
        len(_build('dynamic_earthnet', den_root, loader)[0])
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    assert len(ds) == 3 and counts == [3, 1, 1]
    infos = [ds.get_data_info(i) for i in range(3)]
    assert [i['sample_id'] for i in infos] == [
        '1330_3107_13_2018-01', '1330_3107_13_2018-02', '2196_3885_13_2018-01'
    ]
    assert [sorted(i['modalities'])
            for i in infos] == [['labels', 'planet', 's1', 's2'],
                                ['labels', 'planet', 's2'], ['labels', 'planet', 's2']]
    item = ds[0]
    x, sample = item['inputs'], item['data_samples']
    assert x['planet'].shape == (6, 4, 16, 16)  # weekly days, R, G, B, NIR
    assert x['planet_doy'].tolist() == [1, 5, 10, 15, 20, 25]
    assert x['planet'][1, :, 0,
                       0].tolist() == pytest.approx([0.3005, 0.2005, 0.1005, 0.4005])
    assert x['s2'].shape == (1, 12, 8, 8) and x['s1'].shape == (1, 8, 8, 8)
    assert sample.gt_seg_map[5, 9].item() == label_value(5, 9)
    assert sample.gt_seg_map[15].tolist() == [255] * 16  # no class set
    assert 'labels' not in x and sample.modalities_present == ['planet', 's2', 's1']
    assert sample.geo['lon'] == pytest.approx(-123.0, abs=1e-6)
    assert sample.geo['lat'] == pytest.approx(40.0, abs=1e-4)
    out = _batch(ds, cfg, (0, 2))['inputs']
    assert out['planet'].shape == (2, 6, 4, 16, 16)
    assert out['s1_present'].tolist() == [True, False]
    assert out['planet'][0, 0, 0, 0, 0].item() == pytest.approx(
        (0.3001 - 0.10426) / 0.09580, rel=1e-4)


def test_dynamic_earthnet_daily(den_root):
    ds, _ = _build('dynamic_earthnet', den_root, planet_days='daily')
    assert ds.get_data_info(1)['modalities']['planet']['dates'][:3] == [
        '2018-02-01', '2018-02-02', '2018-02-05'
    ]
    assert ds[1]['inputs']['planet_date_mask'].sum() == 6  # 7 days, sampled to 6


def test_dynamic_earthnet_broken_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match='train.txt'):
        _build('dynamic_earthnet', tmp_path)
    make_dynamic_earthnet(tmp_path)
    planet = tmp_path / 'planet/10N/27E-187N/1330_3107_13/PF-SR'
    (planet / '2018-02-10.tif').unlink()
    with pytest.raises(
            FileNotFoundError, match='line 2: Planet image .*2018-02-10.tif'):
        _build('dynamic_earthnet', tmp_path)
    label = next((tmp_path / 'labels').rglob('*2019_12_01.tif'))
    label.unlink()
    with pytest.raises(FileNotFoundError, match='label file .*2019_12_01.tif'):
        _build('dynamic_earthnet', tmp_path, 'test_dataloader')
