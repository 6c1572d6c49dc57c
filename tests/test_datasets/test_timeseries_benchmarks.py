"""PASTIS(-R/-HD/-MM), DynamicEarthNet and TreeSatAI(-TS) from fake official layouts."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from eofm.datasets import multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers.fake_data.dynamic_earthnet import label_value, make_dynamic_earthnet
from tests.helpers.fake_data.pastis import make_pastis, seg_value
from tests.helpers.fake_data.treesatai import make_treesatai

CONFIGS = osp.join(osp.dirname(__file__), '../../configs/_base_/datasets/')


def _build(name, root, loader='train_dataloader', **overrides):
    cfg = Config.fromfile(CONFIGS + name + '.py')
    dataset = cfg[loader].dataset
    dataset.data_root = str(root)
    dataset.update(overrides)
    return DATASETS.build(dataset), cfg


def _batch(ds, cfg, indices=(0, 1)):
    pre = MultiModalDataPreprocessor(
        normalize=cfg.normalize if 'normalize' in cfg else None)
    return pre(multimodal_collate([ds[i] for i in indices]))


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
