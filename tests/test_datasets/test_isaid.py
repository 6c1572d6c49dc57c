"""iSAID, read by mmseg's dataset class: a tiny fake of the official raw layout, the
converter it needs and the dataset of its base config under mmseg's default scope."""
import cv2
import numpy as np
import pytest

import eofm  # noqa: F401 - compatibility fixes and eofm's registries
from tests.helpers.fake_data.isaid import make_isaid
from tests.helpers.host_dataset_helpers import (build_in_scope as _build,
                                                host_config as _config,
                                                item_in_scope as _item)
from tools.dataset_converters import isaid


# ---------------------------------------------------------------------------- iSAID
def test_isaid_converter_and_mmseg_dataset(tmp_path):
    make_isaid(tmp_path / 'iSAID')
    out = tmp_path / 'isaid'
    counts = isaid.convert_isaid(
        str(tmp_path / 'iSAID'), str(out), splits=('train', 'val', 'test'))
    # 1000 x 1408: rows at 0 and 1000 - 896 = 104, columns at 0 and 512
    assert counts == dict(train=4, val=1, test=1)
    names = sorted(p.name for p in (out / 'img_dir' / 'train').iterdir())
    assert names == [
        'P0001_0_896_0_896.png', 'P0001_0_896_512_1408.png', 'P0001_104_1000_0_896.png',
        'P0001_104_1000_512_1408.png'
    ]
    ann = out / 'ann_dir' / 'train'

    def label(name):
        arr = cv2.imread(
            str(ann / f'{name}_instance_color_RGB.png'), cv2.IMREAD_UNCHANGED)
        assert arr.shape == (896, 896) and arr.dtype == np.uint8
        return arr

    assert label('P0001_0_896_0_896')[150, 200] == 1  # ship (0, 0, 63)
    lab = label('P0001_104_1000_512_1408')
    assert lab[600 - 104, 1200 - 512] == 14  # plane (0, 127, 255)
    assert label('P0001_104_1000_0_896')[920 - 104, 20] == 0  # colour not in palette
    assert cv2.imread(str(out / 'img_dir' / 'train' / 'P0001_0_896_0_896.png')).shape \
        == (896, 896, 3)
    val = cv2.imread(
        str(out / 'ann_dir' / 'val' / 'P0002_0_896_0_896_instance_color_RGB.png'),
        cv2.IMREAD_UNCHANGED)
    assert val[50, 300] == 15 and val[200, 300] == 0 and val[700, 700] == 255  # padded
    assert not (out / 'ann_dir' / 'test').exists()

    cfg = _config('isaid', out)
    ds = _build(cfg.val_dataloader.dataset, 'mmseg')
    assert len(ds) == 1 and len(ds.metainfo['classes']) == 16  # 15 + background
    item = _item(ds, 0, 'mmseg')
    assert tuple(item['inputs'].shape) == (3, 896, 896)
    seg = item['data_samples'].gt_sem_seg.data
    assert set(seg.unique().tolist()) == {0, 15, 255}
    train = _build(cfg.train_dataloader.dataset, 'mmseg')
    assert len(train) == 4
    item = _item(train, 0, 'mmseg')  # random resize (0.5-2x) and 896 px crop
    assert item['inputs'].shape[1:] == item['data_samples'].gt_sem_seg.data.shape[1:]
    assert max(item['inputs'].shape[1:]) <= 896


def test_isaid_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'train.images" does not exist'):
        isaid.convert_isaid(str(tmp_path), str(tmp_path / 'out'))
    make_isaid(tmp_path / 'iSAID')
    (tmp_path / 'iSAID' / 'val' / 'Semantic_masks' / 'images.zip').unlink()
    with pytest.raises(
            FileNotFoundError,
            match=r'no "<id>_instance_color_RGB.png" mask'
            r" for the images \['P0002'\]"):
        isaid.convert_isaid(str(tmp_path / 'iSAID'), str(tmp_path / 'out'))
    with pytest.raises(SystemExit, match='error: iSAID: .*official layout'):
        isaid.main([str(tmp_path / 'nowhere')])
