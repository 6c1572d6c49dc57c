"""Band transforms: the Sentinel-1 ratio channel and filled / reordered bands."""
import numpy as np
import pytest

from eofm.datasets import AppendBandRatio, ArrangeBands


def test_append_band_ratio_series_with_mask():
    x = np.stack([np.full((2, 2), 4.0), np.full((2, 2), 2.0)])[None].repeat(3, 0)
    mask = np.ones((3, 2, 2), bool)
    mask[1, 0, 0] = False
    out = AppendBandRatio('s1', eps=0.0)(dict(s1=x.copy(), s1_mask=mask))
    assert out['s1'].shape == (3, 3, 2, 2)
    assert out['s1'][0, 2, 0, 0] == 2.0
    assert out['s1'][1, 2, 0, 0] == 0.0  # masked pixel
    diff = AppendBandRatio('s1', mode='difference')(dict(s1=x[0].copy()))
    assert diff['s1'][2].tolist() == [[2.0, 2.0], [2.0, 2.0]]
    clipped = AppendBandRatio(
        's1', clip=10)(
            dict(s1=np.stack([np.ones((1, 1)), np.zeros((1, 1))])))
    assert clipped['s1'][2, 0, 0] == 10


def test_arrange_bands_fills_missing_and_reorders():
    x = np.arange(3)[:, None, None] * np.ones((3, 2, 2))
    t = ArrangeBands('s2', src=['B2', 'B3', 'B4'], dst=['B4', 'B8', 'B2'], fill=-1)
    out = t(dict(s2=x))
    assert out['s2'][:, 0, 0].tolist() == [2, -1, 0]
    series = ArrangeBands(
        's2', src=['a', 'b'], dst=['b', 'a'])(
            dict(s2=np.arange(2)[None, :, None, None] * np.ones((4, 2, 1, 1))))
    assert series['s2'][0, :, 0, 0].tolist() == [1, 0]


def test_band_transform_errors():
    with pytest.raises(ValueError, match='src names 3 channels'):
        ArrangeBands('s2', src=['a', 'b', 'c'], dst=['a'])(dict(s2=np.zeros((2, 1, 1))))
    with pytest.raises(ValueError, match='repeated'):
        ArrangeBands('s2', src=['a', 'a'], dst=['a'])
    with pytest.raises(KeyError, match="modality 's1' is not in the sample"):
        AppendBandRatio('s1')(dict(s2=np.zeros((2, 1, 1))))
    with pytest.raises(IndexError, match='channel 3'):
        AppendBandRatio('s1', numerator=3)(dict(s1=np.zeros((2, 1, 1))))
