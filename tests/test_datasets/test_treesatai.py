"""TreeSatAI(-TS) from fake official layouts."""
import pytest
import torch

from tests.helpers.dataset_helpers import (build_by_name as _build,
                                           series_batch as _batch)
from tests.helpers.fake_data.treesatai import make_treesatai


# --------------------------------------------------------------------- TreeSatAI
def test_treesatai_labels_and_aerial(tmp_path):
    make_treesatai(tmp_path)
    ds, _ = _build('treesatai', tmp_path)
    ids = [ds.get_data_info(i)['sample_id'] for i in range(len(ds))]
    assert ids == [
        'Abies_alba_1_1005_WEFL_NLF', 'Fagus_sylvatica_3_2211_WEFL_NLF',
        'Tilia_spec._9_99911_WEFL_NLF'
    ]  # Cleared: no genus over 0.07
    assert len(_build('treesatai', tmp_path, 'val_dataloader')[0]) == 1  # test split
    assert len(_build('treesatai', tmp_path, label_threshold=0.0)[0]) == 4
    item = ds[0]
    sample = item['data_samples']
    assert item['inputs']['aerial'].shape == (4, 30, 30)
    assert item['inputs']['aerial'][1, 0, 0].item() == pytest.approx(20 / 255)
    assert sample.gt_labels.nonzero().flatten().tolist() == [0, 5]  # Abies, Fagus
    assert sample.gt_label.item() == 0  # Abies alba
    assert ds[2]['data_samples'].gt_label.item() == 19  # Tilia spec.
    assert sample.geo['lon'] == pytest.approx(9.0, abs=1e-6)
    assert sample.geo['lat'] == pytest.approx(52.35, abs=0.01)
    assert sorted(ds.get_data_info(0)['modalities']) == ['aerial', 's1', 's2']
    test = _build('treesatai', tmp_path, 'test_dataloader')[0]
    quercus = test[0]['data_samples'].gt_labels  # Pinus' 0.07 is not above 0.07
    assert quercus.nonzero().flatten().tolist() == [13]


def test_treesatai_ts_series_and_batch(tmp_path):
    make_treesatai(tmp_path, time_series=True)
    ds, cfg = _build('treesatai_ts', tmp_path)
    assert len(ds) == 3
    assert [
        len(_build('treesatai_ts', tmp_path, loader)[0])
        for loader in ('val_dataloader', 'test_dataloader')
    ] == [1, 1]
    assert 's2_cloud' in ds.get_data_info(0)['modalities']
    x = ds[0]['inputs']
    assert x['s2'].shape == (50, 10, 6, 6)
    assert x['s2_doy'][:4].tolist() == [5, 102, 198, 273]
    assert x['s2'][0, 0, 0, 0].item() == pytest.approx(0.1)
    assert x['s1_asc_doy'][:3].tolist() == [3, 69, 152]
    assert x['s1_des_date_mask'].sum() == 2
    out = _batch(ds, cfg)
    assert out['inputs']['aerial'].shape == (2, 4, 30, 30)
    assert out['inputs']['s2'].shape == (2, 50, 10, 6, 6)
    labels = torch.stack([s.gt_labels for s in out['data_samples']])
    assert labels.sum(1).tolist() == [2, 1]


def test_treesatai_broken_layouts(tmp_path):
    make_treesatai(tmp_path, time_series=True)
    h5 = tmp_path / 'sentinel-ts/Fagus_sylvatica_3_2211_WEFL_NLF_2019.h5'
    h5.unlink()
    with pytest.raises(FileNotFoundError, match='Fagus_sylvatica_3_2211_WEFL_NLF'):
        _build('treesatai_ts', tmp_path)
    (tmp_path / 'aerial/Tilia_spec._9_99911_WEFL_NLF.tif').unlink()
    with pytest.raises(FileNotFoundError, match='aerial image .*Tilia_spec'):
        _build('treesatai', tmp_path)
    (tmp_path / 'labels/TreeSatBA_v9_60m_multi_labels.json').unlink()
    with pytest.raises(FileNotFoundError, match='TreeSatBA_v9_60m_multi_labels.json'):
        _build('treesatai', tmp_path)
