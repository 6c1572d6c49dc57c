"""The change-detection benchmarks OSCD and LEVIR-CD in their official layouts, built
from their base configs on tiny fake data."""
import os

import pytest

from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           collate_batch as _batch)
from tests.helpers.fake_data.levir_cd import make_levir_cd
from tests.helpers.fake_data.oscd import make_oscd


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
