"""FLAIR in its official layout, built from its base configs on tiny fake data."""
import os

import pytest

from eofm.datasets.flair import FLAIR_LUT
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           collate_batch as _batch)
from tests.helpers.fake_data.flair import make_flair


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
