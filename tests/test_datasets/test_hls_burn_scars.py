"""HLS Burn Scars (AnySat's segmentation benchmarks of supplementary Table B), built
from its base config on a tiny fake of its layout."""
import datetime

import numpy as np
import pytest

import eofm.datasets.hls_burn_scars  # noqa: F401
from eofm.datasets.hls_burn_scars import hls_date
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           expected_labels as _labels,
                                           sample_ids as _ids)
from tests.helpers.fake_data.hls_burn_scars import MASK_ROWS, SCENES, make_hls_burn_scars, stem


# ------------------------------------------------------------------ HLS Burn Scars
@pytest.fixture(scope='module')
def hls_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('hls_burn_scars')
    make_hls_burn_scars(root)
    return root


def test_hls_burn_scars_splits_and_item(hls_root):
    cfg = _config('hls_burn_scars')
    train = _build(cfg, hls_root)
    assert _ids(train) == [stem(*s) for s in SCENES['training']]
    val = _build(cfg, hls_root, 'val_dataloader')  # masks named <stem>_mask.tif
    assert _ids(val) == [stem(*s) for s in SCENES['validation']]
    assert cfg.test_dataloader.dataset.split == 'val'
    item = train[0]
    inputs, sample = item['inputs'], item['data_samples']
    assert inputs['hls'].shape == (1, 6, 16, 16)
    np.testing.assert_allclose(
        inputs['hls'][0, :, 3, 3].numpy(), 0.01 * np.arange(1, 7), rtol=1e-6)
    assert inputs['hls_doy'].tolist() == [190]  # 2018190
    assert sample.metainfo['hls_dates'] == ['2018-07-09']
    np.testing.assert_array_equal(np.asarray(sample.gt_seg_map), _labels(MASK_ROWS, 16))
    assert val[0]['inputs']['hls_doy'].tolist() == [1]


def test_hls_burn_scars_errors(hls_root, tmp_path):
    cfg = _config('hls_burn_scars')
    assert hls_date('subsetted_512x512_HLS.S30.T11SKA.2020245.v1.4_merged.tif') == \
        datetime.date(2020, 9, 1).isoformat()
    with pytest.raises(ValueError, match='YYYYDDD'):
        hls_date('scene_merged.tif')
    with pytest.raises(FileNotFoundError, match='training'):
        _build(cfg, tmp_path)
    make_hls_burn_scars(tmp_path)
    (tmp_path / 'training' / (stem(*SCENES['training'][1]) + '.mask.tif')).unlink()
    with pytest.raises(FileNotFoundError, match='has no mask'):
        _build(cfg, tmp_path)
