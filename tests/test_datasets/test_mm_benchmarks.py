"""Multi-modal benchmarks in their official layouts: BigEarthNet, fMoW-Sentinel, FLAIR,
SEN12MS(-CR), OSCD and LEVIR-CD, built from their base configs on tiny fake data."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from eofm.datasets import multimodal_collate
from eofm.datasets.flair import FLAIR_LUT
from eofm.datasets.geo_io import RasterReadError
from eofm.datasets.sen12ms import IGBP_TO_SIMPLIFIED
from eofm.models import MultiModalDataPreprocessor
from eofm.registry import DATASETS
from tests.helpers.fake_data.bigearthnet import make_bigearthnet, s2_name
from tests.helpers.fake_data.flair import make_flair
from tests.helpers.fake_data.fmow import make_fmow
from tests.helpers.fake_data.levir_cd import make_levir_cd
from tests.helpers.fake_data.oscd import make_oscd
from tests.helpers.fake_data.sen12ms import make_sen12ms, make_sen12ms_cr

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _config(name):
    return Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', name + '.py'))


def _build(cfg, root, loader='train_dataloader', **overrides):
    ds_cfg = cfg[loader].dataset.copy()
    ds_cfg.update(data_root=str(root), **overrides)
    return DATASETS.build(ds_cfg)


def _batch(cfg, items):
    pre = MultiModalDataPreprocessor(normalize=cfg.get('normalize'))
    return pre(multimodal_collate(items))


# ------------------------------------------------------------------ BigEarthNet
@pytest.fixture
def ben_root(tmp_path):
    make_bigearthnet(tmp_path)
    return tmp_path


def test_bigearthnet_splits_exclusions_and_labels(ben_root):
    cfg = _config('bigearthnet_s2')
    train = _build(cfg, ben_root)
    # train lists patches 0-3; 2 has seasonal snow, 3 clouds.
    assert [train.get_data_info(i)['sample_id']
            for i in range(len(train))] == [s2_name(0), s2_name(1)]
    assert len(_build(cfg, ben_root, 'val_dataloader')) == 1
    assert len(_build(cfg, ben_root, 'test_dataloader')) == 1
    labels = [train.get_data_info(i)['gt_labels'] for i in range(2)]
    assert np.flatnonzero(labels[0]).tolist() == [0]  # urban fabric (airports dropped)
    assert np.flatnonzero(labels[1]).tolist() == [9, 18]
    assert len(labels[0]) == 19 and len(train.metainfo['classes']) == 19
    everything = _build(cfg, ben_root, exclude_files=[])
    assert len(everything) == 4
    assert sum(everything.get_data_info(2)['gt_labels']) == 0  # port areas only


def test_bigearthnet_band_stacking(ben_root):
    cfg = _config('bigearthnet_s2')
    item = _build(cfg, ben_root)[1]
    s2 = item['inputs']['s2'].numpy()
    assert s2.shape == (12, 12, 12)  # 12 bands of 10, 20 and 60 m on the 10 m grid
    bands = cfg.s2_bands
    assert s2[bands.index('B02'), 0, 0] == pytest.approx(0.0501)
    # Bilinear upsampling of the 20 m ramp 1000 + 10 * (6 r + c): the centre of 10 m
    # pixel (3, 5) is at 20 m pixel (1.25, 2.25) -> 1097.5, rounded to 1098 (uint16).
    assert s2[bands.index('B05'), 3, 5] == pytest.approx(0.1098)
    # Nearest: 10 m pixel (3, 5) lies in 20 m pixel (1, 2), (7, 2) in 60 m pixel (1, 0).
    cfg.pipeline[0].modalities.s2.resample = 'nearest'
    s2 = _build(cfg, ben_root, pipeline=cfg.pipeline)[1]['inputs']['s2'].numpy()
    assert s2[bands.index('B05'), 3, 5] == pytest.approx((1000 + 10 * 8) / 1e4)
    assert s2[bands.index('B01'), 7, 2] == pytest.approx(300 / 1e4)
    sample = item['data_samples']
    assert sample.gt_labels.tolist()[9] == 1 and sample.s2_dates == ['2017-06-13']


def test_bigearthnet_mm_batch(ben_root):
    cfg = _config('bigearthnet_mm')
    ds = _build(cfg, ben_root)
    out = _batch(cfg, [ds[0], ds[1]])
    x = out['inputs']
    assert x['s2'].shape == (2, 12, 12, 12) and x['s1'].shape == (2, 2, 12, 12)
    vv = (-12.5 - cfg.normalize.s1.mean[0]) / cfg.normalize.s1.std[0]
    assert x['s1'][:, 0].flatten().tolist() == pytest.approx([vv] * 288, rel=1e-5)
    assert torch.stack([s.gt_labels for s in out['data_samples']]).shape == (2, 19)


def test_bigearthnet_errors(ben_root):
    cfg = _config('bigearthnet_mm')
    with pytest.raises(FileNotFoundError, match='splits/nope.csv'):
        _build(cfg, ben_root, split_file='splits/nope.csv')
    with pytest.raises(ValueError, match='no S1 patch'):
        _build(cfg, ben_root, split_file='splits/s2_only.csv')
    name = s2_name(0)
    os.remove(ben_root / 'BigEarthNet-v1.0' / name / f'{name}_B8A.tif')
    with pytest.raises(RasterReadError, match=f'{name}_B8A.tif: file not found'):
        _build(cfg, ben_root)[0]
    (ben_root / 'BigEarthNet-v1.0' / name /
     f'{name}_labels_metadata.json').write_text('{"labels": ["Shopping malls"]}')
    with pytest.raises(ValueError, match="labels_metadata.json: unknown label 'Shop"):
        _build(cfg, ben_root)


# ------------------------------------------------------------------ fMoW-Sentinel
def test_fmow_images_and_series(tmp_path):
    make_fmow(tmp_path)
    cfg = _config('fmow_s2')
    train = _build(cfg, tmp_path)
    assert len(train) == 4 and len(_build(cfg, tmp_path, 'val_dataloader')) == 1
    assert [train.get_data_info(i)['gt_label'] for i in range(4)] == [0, 0, 0, 61]
    assert train.get_data_info(0)['geo']['lon'] == pytest.approx(10.01)
    item = train[0]  # airport_0_1
    assert item['inputs']['s2'].shape == (13, 96, 96)
    assert item['inputs']['s2'][3, 50, 50].item() == pytest.approx(1031 / 1e4)
    assert item['data_samples'].s2_dates == ['2017-05-20']
    series = _build(cfg, tmp_path, mode='series')
    assert len(series) == 2
    airport = series[0]['inputs']
    assert airport['s2'].shape == (3, 13, 96, 96)
    assert airport['s2_doy'].tolist() == [41, 140, 227]  # sorted by date: 0, 1, 100
    assert airport['s2'][:, 0, 0, 0].tolist() == pytest.approx([0.1, 0.1001, 0.11])


def test_fmow_bad_csv(tmp_path):
    make_fmow(tmp_path)
    (tmp_path / 'val.csv').write_text('category,location_id,image_id\ndam,7,2\n')
    with pytest.raises(
            ValueError, match=r"val.csv: missing column\(s\) \['timestamp'\]"):
        _build(_config('fmow_s2'), tmp_path, 'val_dataloader')


# ------------------------------------------------------------------ FLAIR
@pytest.fixture
def flair_root(tmp_path):
    make_flair(tmp_path)
    return tmp_path


def test_flair1_aerial_and_class_remapping(flair_root):
    cfg = _config('flair')
    assert list(cfg.flair_lut) == list(FLAIR_LUT)
    flair1 = dict(type='eofm.FLAIR', pipeline=cfg.aerial_pipeline)
    train = _build(cfg, flair_root, **flair1)
    assert len(train) == 3 and len(train.metainfo['classes']) == 13
    assert len(_build(cfg, flair_root, 'val_dataloader', **flair1)) == 1
    assert len(_build(cfg, flair_root, domains=['D013_2020'], **flair1)) == 1
    item = train[0]
    assert item['inputs']['aerial'].shape == (5, 16, 16)
    assert item['inputs']['aerial'][0, 0, 0].item() == pytest.approx(10 / 255)
    seg = item['data_samples'].gt_seg_map
    # Mask values 1, 5 / 13, 19 -> classes 0, 4 / 12 ("other"), 12.
    assert seg[[0, 0, 15, 15], [0, 15, 0, 15]].tolist() == [0, 4, 12, 12]


def test_flair2_sentinel_super_patch(flair_root):
    cfg = _config('flair')
    train = _build(cfg, flair_root)
    x = train[0]['inputs']
    assert x['s2'].shape == (3, 10, 40, 40)
    assert x['s2_doy'].tolist() == [14, 93, 255]
    # Centroid (20, 24): output (0, 0) is super-area (0, 4).
    assert x['s2'][2, 3, 0, 0].item() == pytest.approx((2000 + 300 + 4) / 1e4)
    assert x['s2_mask'].all()
    edge = train[1]['inputs']  # centroid (3, 45): rows -17.., columns 25..
    assert not edge['s2_mask'][:, 16, 0].any() and edge['s2_mask'][:, 17, 22].all()
    assert not edge['s2_mask'][:, 17, 23].any()
    assert edge['s2'][0, 0, 17, 0].item() == pytest.approx(25 / 1e4)
    cfg.pipeline[1]['cloud_threshold'] = 50
    masked = _build(cfg, flair_root, pipeline=cfg.pipeline)[0]['inputs']['s2_mask']
    assert masked[0].all() and not masked[1].any()
    out = _batch(cfg, [train[0], train[2]])
    assert out['inputs']['s2'].shape == (2, 3, 10, 40, 40)
    assert out['inputs']['aerial'].shape == (2, 5, 16, 16)


def test_flair_errors(flair_root):
    cfg = _config('flair')
    os.remove(flair_root / 'flair_labels_train/D013_2020/Z2_UA/msk/MSK_000003.tif')
    with pytest.raises(FileNotFoundError, match='MSK_000003.tif'):
        _build(cfg, flair_root)
    (flair_root / 'flair-2_centroids_sp_to_patch.json').write_text('{}')
    with pytest.raises(ValueError, match='no centroid for aerial patch IMG_000004'):
        _build(cfg, flair_root, 'val_dataloader')


# ------------------------------------------------------------------ SEN12MS
def test_sen12ms_splits_and_igbp_classes(tmp_path):
    make_sen12ms(tmp_path)
    cfg = _config('sen12ms')
    assert list(cfg.igbp_lut) == list(IGBP_TO_SIMPLIFIED)
    train = _build(cfg, tmp_path)
    assert len(train) == 3 and len(_build(cfg, tmp_path, 'val_dataloader')) == 1
    held_out = _build(
        cfg, tmp_path, split_file=None, exclude_files=['splits/holdout.txt'])
    assert len(held_out) == 4  # 6 patches minus scene ROIs1158_spring/s1_2
    out = _batch(cfg, [train[0], train[1]])
    assert out['inputs']['s2'].shape == (2, 10, 8, 8)
    assert out['inputs']['s1'].shape == (2, 2, 8, 8)
    seg = out['data_samples'][0].gt_seg_map
    # IGBP rows 0, 1, 10, 13, 17, 6, 9, 16 -> no data, forest, grassland, urban,
    # water, shrubland, savanna, barren.
    assert seg[:, 0].tolist() == [255, 0, 3, 6, 9, 1, 2, 8]


def test_sen12ms_errors(tmp_path):
    make_sen12ms(tmp_path)
    cfg = _config('sen12ms')
    (tmp_path / 'splits' / 'bad.txt').write_text('ROIs1158_spring_s2_1_p10.tif\nfoo\n')
    with pytest.raises(ValueError, match=r"bad.txt: line 2: 'foo'"):
        _build(cfg, tmp_path, split_file='splits/bad.txt')
    os.rename(tmp_path / 'ROIs2017_winter' / 'lc_5', tmp_path / 'ROIs2017_winter' / 'x')
    with pytest.raises(FileNotFoundError, match='no lc_<scene> folders'):
        _build(cfg, tmp_path)


def test_sen12ms_cr_splits(tmp_path):
    make_sen12ms_cr(tmp_path)
    cfg = _config('sen12ms_cr')
    sizes = {
        loader: len(_build(cfg, tmp_path, loader))
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    }
    assert sizes == dict(train_dataloader=1, val_dataloader=1, test_dataloader=1)
    assert len(_build(cfg, tmp_path, split='all')) == 3
    x = _build(cfg, tmp_path)[0]['inputs']
    assert x['s2_cloudy'].shape == (13, 8, 8) and x['s2'].shape == (13, 8, 8)
    assert x['s2_cloudy'][0, 0, 0].item() == pytest.approx(0.9)


# ------------------------------------------------------------------ OSCD
def test_oscd_cities(tmp_path):
    make_oscd(tmp_path)
    cfg = _config('oscd')
    test = _build(cfg, tmp_path, 'test_dataloader')
    train = _build(cfg, tmp_path, split='train', mode='cities')
    assert len(test) == 1 and len(train) == 2
    item = train[1]
    pre, post = item['inputs']['pre'], item['inputs']['post']
    assert pre.shape == post.shape == (13, 24, 36)
    bands = cfg.s2_bands
    # Bilinear on the 60 m ramp 1000 + 100 * (6 r + c): the centre of 10 m pixel
    # (13, 20) is at 60 m pixel (1.75, 2.917) -> 2341.7, rounded to 2342 (uint16).
    assert pre[bands.index('B09'), 13, 20].item() == pytest.approx(0.2342)
    assert post[bands.index('B02'), 0, 0].item() == pytest.approx(0.201)
    sample = item['data_samples']
    assert sample.pre_dates == ['2016-08-23'] and sample.post_dates == ['2018-03-11']
    change = sample.gt_change_map
    assert change.shape == (24, 36) and set(change.unique().tolist()) == {0, 1}
    assert change.sum().item() == 64 and change[4:12, 10:18].all()


def test_oscd_converter_and_patches(tmp_path):
    from tools.dataset_converters.oscd import convert, main, patch_offsets
    src, out = tmp_path / 'oscd', tmp_path / 'patches'
    make_oscd(src)
    assert patch_offsets(24, 8, 6) == [0, 6, 12, 16]
    assert patch_offsets(36, 8, 6) == [0, 6, 12, 18, 24, 28]
    counts = convert(str(src), str(out), size=8, progress=False)
    assert counts == dict(train=30, test=15)  # 3 x 5 windows per city
    cfg = _config('oscd')
    train = _build(cfg, out)
    assert len(train) == 30
    ids = [train.get_data_info(i)['sample_id'] for i in range(30)]
    item = train[ids.index('abudhabi_8_8')]
    assert item['inputs']['pre'].shape == (13, 8, 8)
    assert item['inputs']['post'][1, 0, 0].item() == pytest.approx(0.201)
    assert item['data_samples'].gt_change_map.sum().item() == 4 * 6
    assert item['data_samples'].post_dates == ['2018-03-11']
    batch = _batch(cfg, [train[0], train[1]])
    assert batch['inputs']['pre'].shape == (2, 13, 8, 8)
    with pytest.raises(SystemExit, match='is not an OSCD folder'):
        main([str(tmp_path / 'nothing'), '--out-dir', str(out)])


def test_oscd_missing_band(tmp_path):
    make_oscd(tmp_path)
    folder = tmp_path / 'Onera Satellite Change Detection dataset - Images/paris/imgs_2'
    for path in folder.glob('*B8A.tif'):
        os.remove(path)
    with pytest.raises(
            FileNotFoundError, match='imgs_2" must hold one file ending in '
            'B8A.tif'):
        _build(_config('oscd'), tmp_path, 'test_dataloader')


# ------------------------------------------------------------------ LEVIR-CD
def test_levir_cd(tmp_path):
    make_levir_cd(tmp_path)
    cfg = _config('levir_cd')
    train = _build(cfg, tmp_path)
    assert len(train) == 2
    assert len(_build(cfg, tmp_path, 'val_dataloader')) == 1
    assert len(_build(cfg, tmp_path, 'test_dataloader')) == 1
    item = train[0]
    assert item['inputs']['pre'].shape == (3, 16, 16)
    assert item['inputs']['pre'][0, 0, 0].item() == pytest.approx(41 / 255)
    change = item['data_samples'].gt_change_map
    assert change.sum().item() == 16 and change.max().item() == 1
    out = _batch(cfg, [train[0], train[1]])
    assert out['inputs']['post'].shape == (2, 3, 16, 16)
    expected = (200 / 255 - 0.485) / 0.229
    assert out['inputs']['post'][:, 0].flatten().tolist() == pytest.approx(
        [expected] * 512, rel=1e-5)
    os.remove(tmp_path / 'val' / 'label' / 'val_1.png')
    with pytest.raises(FileNotFoundError, match='val_1.png" \\(the label file'):
        _build(cfg, tmp_path, 'val_dataloader')
