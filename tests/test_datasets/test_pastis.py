"""PASTIS(-R/-HD/-MM) from fake official layouts."""
import json

import pytest

from eofm.registry import DATASETS
from tests.helpers.dataset_helpers import (build_by_name as _build,
                                           series_batch as _batch)
from tests.helpers.fake_data.pastis import make_pastis, seg_value


# ----------------------------------------------------------------------- PASTIS
@pytest.fixture(scope='module')
def pastis_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('pastis')
    make_pastis(root)
    return root


def test_pastis_folds_dates_labels_geo(pastis_root):
    ds, _ = _build('pastis', pastis_root)
    assert len(ds) == 3 and ds.metainfo['classes'][19] == 'Void label'
    assert len(_build('pastis', pastis_root, folds=[1, 2])[0]) == 2
    with pytest.raises(ValueError, match=r'no patch of folds \[5\]'):
        _build('pastis', pastis_root, 'test_dataloader')
    item = ds[0]
    x, sample = item['inputs'], item['data_samples']
    assert x['s2'].shape == (50, 10, 16, 16)
    assert x['s2_date_mask'].sum() == 4  # patch 0 has 4 dates, padded to 50
    assert x['s2_doy'][:4].tolist() == [267, 282, 292, 307]  # 2018-09-24, ...
    assert x['s2'][1, 2, 0, 0].item() == pytest.approx(0.0301)  # (100 * 3 + 1) / 1e4
    assert sample.gt_seg_map.shape == (16, 16)
    assert sample.gt_seg_map[3, 5].item() == seg_value(0, 3, 5)
    assert sample.sample_id == '10000'
    assert sample.geo['lon'] == pytest.approx(3.0, abs=1e-6)
    assert sample.geo['lat'] == pytest.approx(46.5, abs=1e-6)
    assert ds[1]['data_samples'].geo['lon'] > 3.06  # 5 km east


@pytest.mark.parametrize('name, static, shape', [('pastis_r', None, None),
                                                 ('pastis_hd', 'spot', (3, 64, 64)),
                                                 ('pastis_mm', 'hr', (3, 64, 64))])
def test_pastis_variants_batch(pastis_root, name, static, shape):
    ds, cfg = _build(name, pastis_root)
    out = _batch(ds, cfg)
    x = out['inputs']
    assert x['s1_asc'].shape == (2, 50, 3, 16, 16)
    assert x['s1_asc_date_mask'].sum(1).tolist() == [5, 5]
    assert x['s1_des_date_mask'].sum(1).tolist() == [3, 3]
    assert x['s2_date_mask'].sum(1).tolist() == [4, 5]
    # VV is -1 dB, normalised with the release's S1A statistics.
    assert x['s1_asc'][0, 0, 0, 0, 0].item() == pytest.approx(
        (-1 + 10.93095) / 3.28597, rel=1e-4)
    assert x['s1_asc'][0, 10].abs().sum() == 0  # padded dates stay zero
    if static:
        assert x[static].shape == (2, *shape)
        assert x[static][1, 0, 0, 0].item() == pytest.approx(20 / 255)
    assert [s.gt_seg_map.shape for s in out['data_samples']] == [(16, 16)] * 2


def test_pastis_instances(pastis_root):
    pipeline = [
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities=dict(s2=dict()),
            label_maps=dict(gt_seg_map=dict(like='s2'))),
        dict(type='eofm.LoadPASTISInstances'),
    ]
    ds = DATASETS.build(
        dict(
            type='eofm.PASTIS',
            data_root=str(pastis_root),
            with_instances=True,
            pipeline=pipeline))
    results = ds[2]
    assert results['gt_instance_map'].shape == (16, 16)
    assert results['gt_instance_map'][5, 9] == 1 + 10 + 2
    assert results['gt_seg_map'][5, 9] == seg_value(2, 5, 9)


def test_pastis_broken_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match='metadata.geojson'):
        _build('pastis', tmp_path)
    make_pastis(tmp_path)
    (tmp_path / 'DATA_S1D/S1D_10001.npy').unlink()
    assert len(_build('pastis', tmp_path)[0]) == 3  # PASTIS needs no Sentinel-1
    with pytest.raises(FileNotFoundError, match='S1D_10001.npy'):
        _build('pastis_r', tmp_path)
    with pytest.raises(ValueError, match='folds must be among 1-5'):
        _build('pastis', tmp_path, folds=[6])
    meta = json.loads((tmp_path / 'metadata.geojson').read_text())
    del meta['features'][1]['properties']['dates-S2']
    (tmp_path / 'metadata.geojson').write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="patch 10001: field 'dates-S2'"):
        _build('pastis', tmp_path)
