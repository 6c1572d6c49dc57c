"""TemporalSample and DateJitter on hand-made series."""
import numpy as np
import pytest

from eofm.datasets.transforms import DateJitter, TemporalSample


def _series(n):
    return dict(s2=np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones(
        (n, 2, 3, 3), np.float32), s2_mask=np.ones((n, 3, 3), bool),
                s2_doy=np.arange(1, n + 1) * 10)


def test_random_sampling_keeps_order_and_pairs_data_with_dates():
    np.random.seed(0)
    out = TemporalSample(dict(s2=5))(_series(12))
    doy = out['s2_doy']
    assert len(doy) == 5 and (np.diff(doy) > 0).all()
    # date t carries value t - 1 in the data: the pairs stay together
    np.testing.assert_array_equal(out['s2'][:, 0, 0, 0], doy / 10 - 1)
    assert out['s2_date_mask'].all()


def test_even_sampling_and_padding():
    out = TemporalSample(dict(s2=3), mode='even')(_series(5))
    assert out['s2_doy'].tolist() == [10, 30, 50]
    out = TemporalSample(dict(s2=4))(_series(2))
    assert out['s2_doy'].tolist() == [10, 20, 0, 0]
    assert out['s2_date_mask'].tolist() == [True, True, False, False]
    assert out['s2'][2:].sum() == 0 and not out['s2_mask'][2:].any()


def test_date_jitter_bounds_wrap_and_padding():
    np.random.seed(1)
    res = dict(s2_doy=np.array([1, 100, 366, 0]))
    out = DateJitter(['s2'], max_shift=3)(res)
    doy = out['s2_doy']
    assert doy[3] == 0  # padding untouched
    assert ((1 <= doy[:3]) & (doy[:3] <= 365)).all()
    assert abs(int(doy[1]) - 100) <= 3
    # 1 shifted backwards wraps to the end of the year
    assert doy[0] <= 4 or doy[0] >= 363


def test_bad_arguments():
    with pytest.raises(ValueError, match='lengths.s2 must be a positive int'):
        TemporalSample(dict(s2=0))
    with pytest.raises(ValueError, match='max_shift must be an int >= 0'):
        DateJitter(['s2'], max_shift=-1)
