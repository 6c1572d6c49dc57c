"""The scene-classification benchmarks AID and NWPU-RESISC45, read by mmpretrain's dataset
classes: tiny fakes of the official layouts, the split maker and the datasets of
their base configs under mmpretrain's default scope."""
import pytest

import eofm  # noqa: F401 - compatibility fixes and eofm's registries
from eofm.datasets import AID, NWPURESISC45
from tests.helpers.fake_data.scene_classification import make_aid, make_nwpu_resisc45
from tests.helpers.host_dataset_helpers import (build_in_scope as _build,
                                                host_config as _config,
                                                item_in_scope as _item)
from tools.dataset_converters import scene_splits


# ------------------------------------------------------------ AID and NWPU-RESISC45
def _lines(path):
    return open(path).read().splitlines()


def test_aid_splits_and_dataset(tmp_path):
    fake = make_aid(tmp_path / 'aid', per_class=10)
    counts = scene_splits.make_splits(fake['root'], str(tmp_path / 'aid' / 'splits'),
                                      'aid')
    assert counts == {0.2: (60, 240), 0.5: (150, 150)}
    tr20 = _lines(tmp_path / 'aid' / 'splits' / 'tr20' / 'train.txt')
    tr50 = _lines(tmp_path / 'aid' / 'splits' / 'tr50' / 'train.txt')
    test20 = _lines(tmp_path / 'aid' / 'splits' / 'tr20' / 'test.txt')
    assert set(tr20) <= set(tr50) and not set(tr20) & set(test20)
    assert sum(line.endswith(' 0') for line in tr20) == 2  # 20 % of each class
    assert tr20[0].startswith('Airport/airport_') and tr20[-1].endswith(' 29')
    # Deterministic for a seed, different for another one
    again = scene_splits.make_splits(fake['root'], str(tmp_path / 'again'), 'aid')
    assert again == counts and _lines(tmp_path / 'again' / 'tr20' / 'train.txt') == tr20
    scene_splits.make_splits(fake['root'], str(tmp_path / 's1'), 'aid', seed=1)
    assert _lines(tmp_path / 's1' / 'tr20' / 'train.txt') != tr20

    cfg = _config('aid', tmp_path / 'aid')
    train = _build(cfg.train_dataloader.dataset, 'mmpretrain')
    assert isinstance(train, AID)
    assert len(train) == 60 and len(train.metainfo['classes']) == 30
    item = _item(train, 59, 'mmpretrain')  # last line: a Viaduct image, label 29
    assert tuple(item['inputs'].shape) == (3, 224, 224)
    assert item['data_samples'].gt_label.tolist() == [29]
    assert abs(item['inputs'].float().mean().item() - 29 * 5) < 3  # grey = 5 x label
    assert len(_build(cfg.val_dataloader.dataset, 'mmpretrain')) == 240

    # Without split lists: every image, labels by folder name
    cfg.train_dataloader.dataset.ann_file = ''
    full = _build(cfg.train_dataloader.dataset, 'mmpretrain')
    assert len(full) == 300
    assert full.get_data_info(299)['gt_label'] == 29


def test_nwpu_resisc45_splits_and_dataset(tmp_path):
    fake = make_nwpu_resisc45(tmp_path / 'nwpu', per_class=10)
    counts = scene_splits.make_splits(fake['root'], str(tmp_path / 'nwpu' / 'splits'),
                                      'nwpu_resisc45')
    assert counts == {0.1: (45, 405), 0.2: (90, 360)}
    cfg = _config('nwpu_resisc45', tmp_path / 'nwpu')
    train = _build(cfg.train_dataloader.dataset, 'mmpretrain')
    assert isinstance(train, NWPURESISC45)
    assert len(train) == 45 and len(train.metainfo['classes']) == 45
    labels = [train.get_data_info(i)['gt_label'] for i in range(45)]
    assert labels == list(range(45))  # one image of each class
    item = _item(train, 44, 'mmpretrain')  # wetland
    assert item['data_samples'].gt_label.tolist() == [44]
    assert tuple(item['inputs'].shape) == (3, 224, 224)


def test_scene_layout_errors(tmp_path):
    fake = make_aid(tmp_path / 'aid', per_class=1)
    with pytest.raises(FileNotFoundError, match=r"unknown folders \['BareLand'"):
        scene_splits.make_splits(fake['root'], str(tmp_path / 's'), 'nwpu_resisc45')
    (tmp_path / 'aid' / 'AID' / 'Viaduct' / 'viaduct_1.jpg').unlink()
    (tmp_path / 'aid' / 'AID' / 'Viaduct').rmdir()
    cfg = _config('aid', tmp_path / 'aid')
    cfg.train_dataloader.dataset.ann_file = ''
    with pytest.raises(FileNotFoundError, match=r"missing classes \['Viaduct'\]"):
        _build(cfg.train_dataloader.dataset, 'mmpretrain')
    with pytest.raises(SystemExit, match='error: scene_splits: .*one folder per class'):
        scene_splits.main([str(tmp_path / 'nowhere'), '--dataset', 'aid'])
