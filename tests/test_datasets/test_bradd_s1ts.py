"""BraDD-S1TS (AnySat's segmentation benchmarks of supplementary Table B), built from
its base config on a tiny fake of the layout eofm assumes."""
import numpy as np
import pytest
import torch

import eofm.datasets.bradd_s1ts  # noqa: F401
from eofm.datasets import multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build,
                                           sample_ids as _ids)
from tests.helpers.fake_data.bradd_s1ts import TILES, dates, make_bradd_s1ts, mask_value


# ------------------------------------------------------------------ BraDD-S1TS
@pytest.fixture(scope='module')
def bradd_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('bradd_s1ts')
    make_bradd_s1ts(root)
    return root


def test_bradd_s1ts_splits_items_and_batch(bradd_root):
    cfg = _config('bradd_s1ts')
    train = _build(cfg, bradd_root)
    assert _ids(train) == [t for t, _ in TILES['train']]
    assert _ids(_build(cfg, bradd_root, 'val_dataloader')) == ['tile_0100']
    assert _ids(_build(cfg, bradd_root, 'test_dataloader')) == ['tile_0200']
    items = [train[0], train[1]]
    first, sample = items[0]['inputs'], items[0]['data_samples']
    assert first['s1'].shape == (4, 2, 6, 6)
    np.testing.assert_allclose(first['s1'][:, :, 2, 3].numpy(),
                               [[-8 - t, -15 - t] for t in range(4)])
    assert sample.metainfo['s1_dates'] == dates(4)
    assert first['s1_doy'].tolist() == [5, 17, 29, 41]
    expected = np.array([[mask_value(r, c) for c in range(6)] for r in range(6)])
    expected[0, 0] = 255
    np.testing.assert_array_equal(np.asarray(sample.gt_seg_map), expected)
    # series of 4 and 5 dates: the data layer pads and masks the shorter one
    pre = MultiModalDataPreprocessor(normalize=cfg.normalize, task='seg')
    batch = pre(multimodal_collate(items))['inputs']
    assert batch['s1'].shape == (2, 5, 2, 6, 6)
    assert batch['s1_date_mask'].tolist() == [[True] * 4 + [False], [True] * 5]
    assert torch.isfinite(batch['s1']).all()


def test_bradd_s1ts_patterns_and_errors(tmp_path):
    cfg = _config('bradd_s1ts')
    make_bradd_s1ts(tmp_path)
    tile = tmp_path / 'val' / 'tile_0100'
    # another layout through the pattern arguments: <tile>_s1.npy stored (T, H, W, C)
    series = np.load(tile / 's1.npy')
    np.save(tile / 'tile_0100_s1.npy', series.transpose(0, 2, 3, 1))
    (tile / 'tile_0100_dates.csv').write_text('date,orbit\n' + ''.join(
        d.replace('-', '') + ',asc\n' for d in dates(3)))
    ds = _build(
        cfg,
        tmp_path,
        'val_dataloader',
        series_file='{tile}_s1.npy',
        series_axes='THWC',
        dates_file='{tile}_dates.csv')
    item = ds[0]['inputs']
    np.testing.assert_allclose(item['s1'].numpy(), series)
    assert item['s1_doy'].tolist() == [5, 17, 29]
    with pytest.raises(ValueError, match='split must be one of'):
        _build(cfg, tmp_path, split='validation')
    (tile / 'dates.txt').write_text('2019-01-05\n2019-13-40\n')
    with pytest.raises(ValueError, match=r'dates.txt, line 2'):
        _build(cfg, tmp_path, 'val_dataloader')
    (tmp_path / 'test' / 'tile_0200' / 'mask.npy').unlink()
    with pytest.raises(FileNotFoundError, match=r'tile_0200 has no mask.*assumed'):
        _build(cfg, tmp_path, 'test_dataloader')
    with pytest.raises(FileNotFoundError, match='split folder'):
        _build(cfg, tmp_path / 'nowhere')
