"""Sen1Floods11 (AnySat's segmentation benchmarks of supplementary Table B), built from
its base config on a tiny fake of its layout."""
import numpy as np
import pytest

import eofm.datasets.sen1floods11  # noqa: F401
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           expected_labels as _labels,
                                           sample_ids as _ids)
from tests.helpers.fake_data.sen1floods11 import (DATA_DIR, LABEL_ROWS, SPLIT_DIR, SPLITS,
                                    make_sen1floods11)


# ----------------------------------------------------------------- Sen1Floods11
@pytest.fixture(scope='module')
def floods_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('sen1floods11')
    make_sen1floods11(root)
    return root


def test_sen1floods11_splits_and_item(floods_root):
    cfg = _config('sen1floods11')
    train = _build(cfg, floods_root)
    assert _ids(train) == SPLITS['train']
    assert _ids(_build(cfg, floods_root, 'val_dataloader')) == SPLITS['valid']
    assert _ids(_build(cfg, floods_root, 'test_dataloader')) == SPLITS['test']
    assert train.metainfo['classes'] == ('not water', 'water')
    item = train[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert inputs['s1'].shape == (1, 2, 16, 16)
    assert inputs['s2'].shape == (1, 10, 16, 16)
    # B02 .. B8A, B11, B12 of the 13 bands (value 1000 + 100 * index) / 10000
    expected = (1000 + 100 * np.array([1, 2, 3, 4, 5, 6, 7, 8, 11, 12])) / 1e4
    np.testing.assert_allclose(inputs['s2'][0, :, 5, 5].numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(inputs['s1'][0, :, 5, 5].numpy(), [-10.0, -17.0])
    # the NaN pixel of the S1 chip is invalid and zeroed
    assert not inputs['s1_mask'][0, 0, 0] and inputs['s1_mask'][0, 1, 1]
    assert inputs['s1'][0, :, 0, 0].tolist() == [0.0, 0.0]
    # placeholder date 2019-01-01 for both images
    assert inputs['s1_doy'].tolist() == [1] and inputs['s2_doy'].tolist() == [1]
    assert sample.metainfo['s1_dates'] == ['2019-01-01']
    np.testing.assert_array_equal(
        np.asarray(sample.gt_seg_map), _labels(LABEL_ROWS, 16))
    assert sample.metainfo['geo']['lat'] is not None


def test_sen1floods11_event_dates(floods_root):
    cfg = _config('sen1floods11')
    ds = _build(
        cfg,
        floods_root,
        event_dates=dict(
            Bolivia=dict(s1='2018-02-15', s2='2018-02-17'), Ghana='2018-09-18'))
    first, second = ds[0]['inputs'], ds[1]['inputs']
    assert first['s1_doy'].tolist() == [46] and first['s2_doy'].tolist() == [48]
    assert second['s1_doy'].tolist() == [261] == second['s2_doy'].tolist()


def test_sen1floods11_layout_errors(floods_root, tmp_path):
    cfg = _config('sen1floods11')
    with pytest.raises(ValueError, match='split must be'):
        _build(cfg, floods_root, split='validation')
    with pytest.raises(FileNotFoundError, match='S2Hand'):
        _build(cfg, tmp_path)
    make_sen1floods11(tmp_path)
    (tmp_path / DATA_DIR / 'S2Hand' / 'Ghana_5079_S2Hand.tif').unlink()
    with pytest.raises(FileNotFoundError, match='Ghana_5079.*no S2Hand file'):
        _build(cfg, tmp_path)
    (tmp_path / SPLIT_DIR / 'flood_test_data.csv').write_text('USA_2.tif,x.tif\n')
    with pytest.raises(ValueError, match=r'line 1: expected'):
        _build(cfg, tmp_path, 'test_dataloader')
