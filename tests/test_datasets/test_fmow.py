"""fMoW-Sentinel in its official layout, built from its base config on tiny fake data."""
import pytest

from tests.helpers.dataset_helpers import (base_config as _config,
                                           build_from_config as _build)
from tests.helpers.fake_data.fmow import make_fmow


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
