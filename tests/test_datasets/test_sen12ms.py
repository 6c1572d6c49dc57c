"""SEN12MS and SEN12MS-CR in their official layouts, built from their base configs on
tiny fake data."""
import os

import pytest

from eofm.datasets.sen12ms import IGBP_TO_SIMPLIFIED
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           collate_batch as _batch)
from tests.helpers.fake_data.sen12ms import make_sen12ms, make_sen12ms_cr


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
