"""So2Sat LCZ42 from a fake official layout, built from its base config: samples, labels,
bands and the errors for bad layouts."""
import numpy as np
import pytest

import eofm.datasets.so2sat  # noqa: F401
from tests.helpers.dataset_helpers import build_by_name as _build, cls_batch as _batch
from tests.helpers.fake_data.so2sat import SIZE, label_of, make_so2sat, sen2_value, write_so2sat_file


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
