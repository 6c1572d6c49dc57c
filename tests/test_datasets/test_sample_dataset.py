"""The generated sample dataset: deterministic, geo-referenced, learnable."""
import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from eofm.registry import DATASETS
from eofm.datasets.sample_data import CLASSES, generate, phenology


def _digest(root):
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            with open(osp.join(dirpath, f), 'rb') as fh:
                h.update(f.encode() + fh.read())
    return h.hexdigest()


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sample'))
    generate(root, num_tiles=16, size=16, hr_factor=4, seed=0)
    return root


def _dataset(root, split='train', pipeline='test_pipeline'):
    cfg = Config.fromfile('configs/_base_/datasets/eofm_sample.py')
    ds = dict(cfg[f'{"train" if split == "train" else "val"}_dataloader'].dataset)
    ds.update(data_root=root, ann_file=f'{split}.json', pipeline=cfg[pipeline])
    return DATASETS.build(ds)


def test_generation_is_deterministic(sample_root, tmp_path):
    generate(str(tmp_path), num_tiles=16, size=16, hr_factor=4, seed=0)
    assert _digest(str(tmp_path)) == _digest(sample_root)
    other = tmp_path / 'other'
    generate(str(other), num_tiles=16, size=16, hr_factor=4, seed=1)
    assert _digest(str(other)) != _digest(sample_root)


def test_tiles_are_spread_over_the_globe(sample_root):
    ann = json.load(open(osp.join(sample_root, 'train.json')))
    assert ann['metainfo']['classes'] == list(CLASSES)
    assert len(ann['data_list']) == 12  # 25 % of 16 tiles go to val
    ds = _dataset(sample_root)
    lonlat = np.array(
        [[ds[i]['data_samples'].geo['lon'], ds[i]['data_samples'].geo['lat']]
         for i in range(8)])
    assert (lonlat[:, 1] < 0).any() and (lonlat[:, 1] > 0).any()  # both hemispheres
    assert np.ptp(lonlat[:, 0]) > 180  # Americas to Oceania
    crs = {ds[i]['data_samples'].geo['crs'][-12:] for i in range(8)}
    assert len(crs) == 8  # eight UTM zones


def test_train_pipeline(sample_root):
    cfg = Config.fromfile('configs/_base_/datasets/eofm_sample.py')
    pipeline = cfg.train_pipeline
    crop = next(t for t in pipeline if t['type'] == 'eofm.AlignedRandomCrop')
    crop['size'] = 48  # tiles here are 16 S2 px = 64 HR px
    ds = DATASETS.build(
        dict(cfg.train_dataloader.dataset, data_root=sample_root, pipeline=pipeline))
    item = ds[0]
    x, s = item['inputs'], item['data_samples']
    assert x['hr'].shape == (4, 48, 48) and x['s2'].shape == (8, 10, 12, 12)
    assert x['s1'].shape == (6, 2, 12, 12)
    assert s.gt_seg_map.shape == (12, 12)
    assert len(s.geometry) == 3
    assert set(s.gt_seg_map.unique().tolist()) <= set(range(len(CLASSES)))
    assert s.gt_labels.shape == (len(CLASSES), )


def test_signals_a_model_can_learn(sample_root):
    """Per-pixel S2 spectra separate the classes; crops follow their season."""
    ds = _dataset(sample_root, split='val')
    feats, labels = [], []
    for i in range(len(ds)):
        item = ds[i]
        s2 = item['inputs']['s2'].numpy()  # (T, 10, H, W) reflectance
        seg = item['data_samples'].gt_seg_map.numpy()
        # Median over dates removes most clouds; one feature vector per pixel.
        feats.append(np.median(s2, axis=0).reshape(10, -1).T)
        labels.append(seg.ravel())
    X, y = np.concatenate(feats), np.concatenate(labels)
    present = np.unique(y)
    centroids = np.stack([X[y == c].mean(0) for c in present])
    pred = present[((X[:, None] - centroids[None])**2).sum(-1).argmin(1)]
    assert (pred == y).mean() > 0.8
    # Phenology: northern cropland greens in June, southern in December.
    assert phenology('cropland', 160, 45.0) > 0.9 > 0.1 > phenology(
        'cropland', 340, 45.0)
    assert phenology('cropland', 342, -30.0) > 0.9
    assert phenology('water', 160, 45.0) == 0


def test_s1_backscatter_and_clouds_in_files(sample_root):
    from osgeo import gdal
    ann = json.load(open(osp.join(sample_root, 'train.json')))['data_list']
    water_db, urban_db, cloudy_dates = [], [], 0
    for entry in ann:
        seg = gdal.Open(
            osp.join(sample_root,
                     entry['label_maps']['gt_seg_map']['path'])).ReadAsArray()
        s1 = gdal.Open(osp.join(
            sample_root, entry['modalities']['s1']['path'])).ReadAsArray().reshape(
                -1, 2, *seg.shape)
        water_db.append(10 * np.log10(s1[:, 0, seg == 0] + 1e-9).ravel())
        urban_db.append(10 * np.log10(s1[:, 0, seg == 3] + 1e-9).ravel())
        s2 = gdal.Open(osp.join(
            sample_root, entry['modalities']['s2']['path'])).ReadAsArray().reshape(
                -1, 11, *seg.shape)
        cloudy_dates += int((s2[:, 10] == 9).any(axis=(1, 2)).sum())
    assert np.median(np.concatenate(water_db)) < -18 < -6 < np.median(
        np.concatenate(urban_db))
    assert cloudy_dates > 0


def test_scene_is_drawn_as_the_tiles(tmp_path):
    """make_scene: one deterministic scene, a scene description the scene
    inference reads (reference s2, the loader's modalities), parcels in
    proportion to the area, labels on the 10 m grid."""
    from osgeo import gdal

    from eofm.datasets.sample_data import make_scene
    path, labels = make_scene(str(tmp_path / 'a'), size=64, hr_factor=4, seed=3)
    make_scene(str(tmp_path / 'b'), size=64, hr_factor=4, seed=3)
    assert _digest(str(tmp_path / 'a')) == _digest(str(tmp_path / 'b'))
    scene = json.load(open(path))
    assert scene['reference'] == 's2'
    assert sorted(scene['modalities']) == ['hr', 's1', 's2', 's2_scl']
    assert scene['classes'] == list(CLASSES) and scene['region'] == 'Paris'
    lab = gdal.Open(labels).ReadAsArray()
    assert lab.shape == (64, 64) and len(np.unique(lab)) >= 3
    hr = gdal.Open(osp.join(tmp_path, 'a', scene['modalities']['hr']['path']))
    assert (hr.RasterXSize, hr.RasterYSize, hr.RasterCount) == (256, 256, 4)
    # 26 parcels (6.5 per 32 x 32 px): many more boundaries than a tile's 4-9
    # (64 x 64 px maps of 9 parcels: at most 340 class edges over 20 seeds; of 26:
    # at least 455)
    edges = (np.diff(lab, axis=0) != 0).sum() + (np.diff(lab, axis=1) != 0).sum()
    assert edges > 400
    with pytest.raises(ValueError, match='variant must be one of'):
        make_scene(str(tmp_path / 'x'), variant='harder')
