"""Detection benchmarks read by host classes: DIOR (mmdet), DIOR-R and FAIR1M (mmrotate).

Each test writes a tiny fake of the official raw layout, runs the converter the
dataset needs, builds the dataset of ``configs/_base_/datasets/<name>.py`` under the
host's default scope and fetches items through the config's pipeline.
"""
import os.path as osp

import cv2
import numpy as np
import pytest

import eofm  # noqa: F401 - compatibility fixes and eofm's registries
from eofm.datasets import DIORHBBDataset, FAIR1MDataset
from eofm.datasets.detection import FAIR1M_CLASSES, fair1m_dota_name
from tests.helpers.fake_data.dior import make_dior
from tests.helpers.fake_data.fair1m import make_fair1m
from tests.helpers.host_dataset_helpers import (build_in_scope as _build,
                                                host_config as _config,
                                                item_in_scope as _item)
from tools.dataset_converters import dota_split, fair1m_to_dota


DIOR_CLASSES = ('airplane', 'airport', 'baseballfield', 'basketballcourt', 'bridge',
                'chimney', 'expressway-service-area', 'expressway-toll-station', 'dam',
                'golffield', 'groundtrackfield', 'harbor', 'overpass', 'ship',
                'stadium', 'storagetank', 'tenniscourt', 'trainstation', 'vehicle',
                'windmill')


# ----------------------------------------------------------------------------- DIOR
def test_dior_hbb(tmp_path):
    fake = make_dior(tmp_path / 'dior')
    cfg = _config('dior_hbb', fake['root'])
    train = _build(cfg.train_dataloader.dataset, 'mmdet')
    assert len(train) == 3  # train.txt (2) + val.txt (1)
    assert train.metainfo['classes'] == DIOR_CLASSES
    info = train.get_data_info(0)
    assert info['img_path'].endswith(osp.join('JPEGImages-trainval', '00001.jpg'))
    boxes = [(i['bbox'], i['bbox_label']) for i in info['instances']]
    # 'Expressway-Service-area' in the XML: matched case-insensitively (mmdet drops it)
    assert boxes == [([10, 12, 40, 30], 0), ([50, 60, 120, 110], 6)]
    assert [i['bbox_label'] for i in train.get_data_info(2)['instances']] == [15, 7]
    item = _item(train, 0, 'mmdet')
    assert tuple(item['inputs'].shape) == (3, 800, 800)
    assert item['data_samples'].gt_instances.labels.tolist() == [0, 6]

    val = _build(cfg.val_dataloader.dataset, 'mmdet')
    assert len(val) == 2
    item = _item(val, 0, 'mmdet')  # 11726: bridge (10, 40, 118, 60), dam; no flip
    assert item['data_samples'].img_path.endswith(
        osp.join('JPEGImages-test', '11726.jpg'))
    gt = item['data_samples'].gt_instances
    assert gt.labels.tolist() == [4, 8]
    np.testing.assert_allclose(gt.bboxes.tensor[0].numpy(), [10, 40, 118, 60])
    assert item['data_samples'].scale_factor == (6.25, 6.25)


def test_dior_r_with_mmrotate_dior_dataset(tmp_path):
    fake = make_dior(tmp_path / 'dior')
    cfg = _config('dior_r', fake['root'])
    train = _build(cfg.train_dataloader.dataset, 'mmrotate')
    assert len(train) == 3
    assert len(train.metainfo['classes']) == 20
    item = _item(train, 2, 'mmrotate')  # 00003: storagetank, Expressway-toll-station
    assert item['data_samples'].gt_instances.labels.tolist() == [15, 7]

    val = _build(cfg.val_dataloader.dataset, 'mmrotate')
    item = _item(val, 0, 'mmrotate')  # 11726: bridge 108 x 20 px at (64, 50), 20 deg
    gt = item['data_samples'].gt_instances
    assert gt.labels.tolist() == [4, 8]
    cx, cy, w, h, a = gt.bboxes.tensor[0].tolist()  # rbox in original pixels
    assert (cx, cy) == pytest.approx((64, 50), abs=0.05)
    assert sorted([w, h]) == pytest.approx([20, 108], abs=0.05)
    long_side_angle = np.degrees(a) + (0 if w >= h else 90)  # any rbox convention
    assert long_side_angle % 180 == pytest.approx(20, abs=0.1)


# --------------------------------------------------------------------------- FAIR1M
def _fair1m_to_split(tmp_path):
    fake = make_fair1m(tmp_path / 'FAIR1M')
    dota = tmp_path / 'dota'
    stats = fair1m_to_dota.fair1m_to_dota(
        osp.join(fake['root'], 'train'), str(dota / 'train'))
    fair1m_to_dota.fair1m_to_dota(
        osp.join(fake['root'], 'validation'), str(dota / 'val'), images='copy')
    return stats, dota


def _annfile(path):
    rows = [line.split() for line in open(path)]
    return {r[8]: ([float(v) for v in r[:8]], int(r[9])) for r in rows}


def test_fair1m_to_dota_and_split(tmp_path):
    stats, dota = _fair1m_to_split(tmp_path)
    # train/part1 and train/part2 found under train/; the 'UFO' object is skipped
    assert stats == dict(images=3, objects=7, skipped={'UFO': 1})
    lines = open(dota / 'train' / 'labelTxt' / '0.txt').read().splitlines()
    assert lines[1] == '400.0 300.0 500.0 300.0 500.0 360.0 400.0 360.0 Small_Car 0'
    assert osp.islink(dota / 'train' / 'images' / '0.tif')
    assert fair1m_dota_name('small car') == 'Small_Car'
    assert fair1m_dota_name('UFO') is None

    out = tmp_path / 'split_ss' / 'train'
    patches = dict(dota_split.split_dota(str(dota / 'train'), str(out)))
    # 0.tif is 1300 x 1000: windows at x = 0 and x = 1300 - 1024 = 276, padded rows
    assert patches == {
        '0__1024__0___0': 4,
        '0__1024__276___0': 3,
        '1__1024__0___0': 1,
        '2__1024__0___0': 1
    }
    for pid in patches:
        assert cv2.imread(str(out / 'images' / f'{pid}.png')).shape == (1024, 1024, 3)
    win0 = _annfile(out / 'annfiles' / '0__1024__0___0.txt')
    win1 = _annfile(out / 'annfiles' / '0__1024__276___0.txt')
    # 55 % of the ship inside the first window: dropped there, whole in the second
    assert 'Passenger_Ship' not in win0
    assert win1['Passenger_Ship'] == ([704, 500, 784, 500, 784, 560, 704, 560], 0)
    # 80 % of the court inside the first window: clipped at x = 1024, difficulty 2
    poly, diff = win0['Tennis_Court']
    assert diff == 2
    assert (min(poly[0::2]), max(poly[0::2])) == (1000, 1024)
    assert (min(poly[1::2]), max(poly[1::2])) == (700, 760)
    assert win1['Tennis_Court'] == ([724, 700, 754, 700, 754, 760, 724, 760], 0)
    assert 'Boeing737' in win0 and 'Boeing737' not in win1
    padded = cv2.imread(str(out / 'images' / '0__1024__0___0.png'))
    assert padded[1010, 10].tolist() == [104, 116, 124]  # below the 1000 rows

    # The dataset of the config, under mmrotate's scope
    dota_split.split_dota(str(dota / 'val'), str(tmp_path / 'split_ss' / 'val'))
    cfg = _config('fair1m', tmp_path)
    train = _build(cfg.train_dataloader.dataset, 'mmrotate')
    assert isinstance(train, FAIR1MDataset)
    assert len(train) == 4 and len(train.metainfo['classes']) == 37
    by_id = {train.get_data_info(i)['img_id']: train.get_data_info(i) for i in range(4)}
    labels = [i['bbox_label'] for i in by_id['0__1024__276___0']['instances']]
    assert sorted(labels) == sorted(
        FAIR1M_CLASSES.index(c)
        for c in ('Small Car', 'Passenger Ship', 'Tennis Court'))
    item = _item(train, 0, 'mmrotate')
    assert tuple(item['inputs'].shape) == (3, 1024, 1024)
    val = _build(cfg.val_dataloader.dataset, 'mmrotate')
    item = _item(val, 0, 'mmrotate')
    gt = item['data_samples'].gt_instances
    assert gt.labels.tolist() == [FAIR1M_CLASSES.index('A350')] == [8]
    cx, cy, w, h, _ = gt.bboxes.tensor[0].tolist()  # 80 x 60 px box at (140, 130)
    assert (cx, cy, min(w, h), max(w, h)) == pytest.approx((140, 130, 60, 80), abs=0.01)


def test_dota_split_multiscale_no_clip_and_parallel(tmp_path):
    _, dota = _fair1m_to_split(tmp_path)
    out = tmp_path / 'split_ms'
    patches = dict(
        dota_split.split_dota(
            str(dota / 'train'), str(out), rates=(1.0, 2.0), clip=False, nproc=2))
    # rate 2: 512 px windows, gap 100; 0.tif 3 x 3, 1.tif 2 x 1, 2.tif 1. The 1024 px
    # windows of the small 1.tif and 2.tif are mostly padding (image share <= 0.6) and,
    # as in mmrotate, dropped once another window of the image is not.
    assert sum('__512__' in p for p in patches) == 12
    assert sorted(p for p in patches
                  if '__1024__' in p) == ['0__1024__0___0', '0__1024__276___0']
    assert {'1__512__0___0', '1__512__88___0', '0__512__788___488'} <= set(patches)
    corner = cv2.imread(str(out / 'images' / '0__512__788___488.png'))
    assert corner.shape == (512, 512, 3)
    poly, diff = _annfile(out / 'annfiles' / '0__1024__0___0.txt')['Tennis_Court']
    assert diff == 2 and max(poly[0::2]) == 1030  # kept whole, as mmrotate does


def test_fair1m_and_dota_layout_errors(tmp_path):
    (tmp_path / 'FAIR1M' / 'train' / 'images').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r'labelXml/.*official layout'):
        fair1m_to_dota.fair1m_to_dota(str(tmp_path / 'FAIR1M'), str(tmp_path / 'o'))
    with pytest.raises(FileNotFoundError, match=r'nowhere.images" does not exist'):
        dota_split.split_dota(str(tmp_path / 'nowhere'), str(tmp_path / 'o'))
    with pytest.raises(SystemExit, match='error: dota_split: .*DOTA format'):
        dota_split.main([str(tmp_path / 'nowhere'), '-o', str(tmp_path / 'o')])


def test_dior_hbb_is_registered():
    from eofm.registry import DATASETS as EOFM_DATASETS
    assert EOFM_DATASETS.get('DIORHBBDataset') is DIORHBBDataset


def test_dior_unknown_classes_warn_with_counts_and_an_empty_split_is_an_error(
        tmp_path, monkeypatch):
    """Objects of classes outside the class list are dropped, never unseen."""
    import xml.etree.ElementTree as ET
    from eofm.datasets.detection import NoInstancesError
    fake = make_dior(tmp_path / 'dior')
    hbb = osp.join(fake['root'], 'Annotations', 'Horizontal Bounding Boxes')
    for img_id in ('00001', '00002'):
        path = osp.join(hbb, f'{img_id}.xml')
        tree = ET.parse(path)
        objs = tree.getroot().findall('object')
        for obj in objs[:2 if img_id == '00001' else 1]:
            obj.find('name').text = 'tree'
        tree.write(path)
    cfg = _config('dior_hbb', fake['root'])
    only_train = cfg.train_dataloader.dataset.datasets[0]
    import eofm.datasets.detection as detection
    logged = []
    monkeypatch.setattr(detection, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw.get('level'))))
    ds = _build(only_train, 'mmdet')
    assert len(logged) == 1 and logged[0][1] == 30  # logging.WARNING
    assert "3 objects in 2 of 2 annotation files are dropped" in logged[0][0]
    assert "{'tree': 3}" in logged[0][0]
    # 00001 (trees only) has no instance left and is filtered (filter_empty_gt)
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert info['unknown_classes'] == {'tree': 1} and len(info['instances']) == 2
    # every object a tree: no instance left in the split
    for img_id in ('00002', ):
        path = osp.join(hbb, f'{img_id}.xml')
        tree = ET.parse(path)
        for obj in tree.getroot().findall('object'):
            obj.find('name').text = 'tree'
        tree.write(path)
    with pytest.raises(NoInstancesError) as e:
        _build(only_train, 'mmdet')
    msg = str(e.value)
    assert "{'tree': 5}" in msg and 'No object of the class list is left' in msg
    assert sorted(osp.basename(p) for p in e.value.file_problems) == ['00001.xml',
                                                                       '00002.xml']
    # the same files with the user's class list load every tree
    only_train.metainfo = dict(classes=('tree', ))
    ds = _build(only_train, 'mmdet')
    assert [len(ds.get_data_info(i)['instances']) for i in range(len(ds))] == [2, 3]
