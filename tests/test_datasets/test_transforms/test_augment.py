"""Aligned spatial augmentations, views and their geometry, HR photometry, clouds."""
import numpy as np
import pytest
import torch

from eofm.datasets import (AlignedRandomCrop, multimodal_collate, AlignedRandomFlip,
                           AlignedRandomResizedCrop, AlignedRandomRot90,
                           FilterCloudyDates, MultiModalMultiView, PackMultiModalInputs,
                           RandomColorJitter, RandomGaussianBlur, RandomSolarize,
                           TemporalSample)
from eofm.models import MultiModalDataPreprocessor
from eofm.structures import footprint_coords, match_views
from mmengine.dataset import pseudo_collate


def _cell_ids(n_cells, repeat):
    """Ground cell id of every pixel: ``n_cells`` x ``n_cells`` cells, ``repeat`` px."""
    ids = np.arange(n_cells * n_cells, dtype=np.float32).reshape(n_cells, n_cells)
    return np.kron(ids, np.ones((repeat, repeat), np.float32))


def _sample():
    # 8 x 8 Sentinel-2 cells; HR 4x finer; a 3-date series; a label map on S2's grid.
    s2 = np.stack([_cell_ids(8, 1)[None]] * 3)  # (T=3, C=1, 8, 8)
    hr = _cell_ids(8, 4)[None].repeat(2, 0)  # (2, 32, 32)
    return dict(
        hr=hr,
        hr_mask=np.ones((32, 32), bool),
        s2=s2,
        s2_mask=np.ones((3, 8, 8), bool),
        s2_doy=np.array([5, 40, 90]),
        gt_seg_map=_cell_ids(8, 1).astype(np.int64),
        modalities_present=['hr', 's2'])


def _check_aligned(r):
    """Every pixel of every modality shows the ground cell its geometry says.

    HR, Sentinel-2 and the label map then agree with each other pixel by pixel.
    """
    for name, img in (('hr', r['hr'][0]), ('s2', r['s2'][0, 0]), ('gt_seg_map',
                                                                  r['gt_seg_map'])):
        xy = footprint_coords(r['geometry'], *img.shape)
        ids = np.floor(xy[..., 1] * 8) * 8 + np.floor(xy[..., 0] * 8)
        assert (ids == img).all(), name


@pytest.mark.parametrize('seed', range(5))
def test_crop_flip_rot_keep_pixel_correspondence(seed):
    np.random.seed(seed)
    r = AlignedRandomCrop(size=16, reference='hr')(_sample())
    assert r['hr'].shape == (2, 16, 16) and r['s2'].shape == (3, 1, 4, 4)
    assert r['s2_mask'].shape == (3, 4, 4) and r['gt_seg_map'].shape == (4, 4)
    r = AlignedRandomFlip(prob=0.5, directions=('horizontal', 'vertical'))(r)
    r = AlignedRandomRot90(prob=0.9)(r)
    _check_aligned(r)


def test_crop_snaps_to_the_coarsest_pixel_and_rejects_bad_sizes():
    np.random.seed(0)
    offsets = set()
    for _ in range(30):
        r = AlignedRandomCrop(size=8, reference='hr')(_sample())
        offsets.add(tuple(np.argwhere(_sample()['hr'][0] == r['hr'][0, 0, 0])[0]))
    assert all(y % 4 == 0 and x % 4 == 0 for y, x in offsets) and len(offsets) > 5
    with pytest.raises(ValueError, match=r'multiple of the coarsest pixel \(4, 4\)'):
        AlignedRandomCrop(size=6, reference='hr')(_sample())
    bad = _sample()
    bad['s2'] = bad['s2'][..., :7, :7]
    bad['s2_mask'] = bad['s2_mask'][..., :7, :7]
    with pytest.raises(ValueError, match="'s2' has 7 px where the reference 'hr'"):
        AlignedRandomCrop(size=16, reference='hr')(bad)


@pytest.mark.parametrize('seed', range(3))
def test_resized_crop_is_aligned(seed):
    np.random.seed(seed)
    crop = AlignedRandomResizedCrop(
        size=32, scale=(0.2, 0.6), reference='hr', interpolation='nearest')
    r = crop(_sample())
    assert r['hr'].shape == (2, 32, 32) and r['s2'].shape == (3, 1, 8, 8)
    _check_aligned(r)
    np.random.seed(seed)  # bilinear: the same box, values blend only across cells
    r2 = AlignedRandomResizedCrop(size=32, scale=(0.2, 0.6), reference='hr')(_sample())
    np.testing.assert_array_equal(r2['gt_seg_map'], r['gt_seg_map'])
    assert np.abs(r2['s2'] - r['s2']).max() <= 8


def test_two_views_match_on_the_ground():
    np.random.seed(3)
    view = [
        dict(type='eofm.AlignedRandomCrop', size=20, reference='hr'),
        dict(type='eofm.AlignedRandomFlip', prob=0.5),
        dict(type='eofm.AlignedRandomRot90')
    ]
    r = MultiModalMultiView([view, view], num_views=[1, 1])(_sample())
    a, b = r['views']
    idx_a, idx_b = match_views(a['geometry'], b['geometry'], a['s2'].shape[-2:],
                               b['s2'].shape[-2:])
    assert len(idx_a) > 0
    assert (a['s2'][0, 0].ravel()[idx_a] == b['s2'][0, 0].ravel()[idx_b]).all()
    # Cells without a pair really are outside the other view.
    unmatched = np.setdiff1d(np.arange(a['s2'][0, 0].size), idx_a)
    assert not np.isin(a['s2'][0, 0].ravel()[unmatched], b['s2'][0, 0]).any()
    packed = PackMultiModalInputs(['hr', 's2'])(r)
    assert isinstance(packed['inputs'], list) and len(packed['inputs']) == 2
    assert len(packed['data_samples'].view_geometries) == 2
    for collate in (pseudo_collate, multimodal_collate):
        out = MultiModalDataPreprocessor()(collate([packed, packed]))
        assert isinstance(out['inputs'], list) and len(out['inputs']) == 2
        assert out['inputs'][1]['s2'].shape == (2, 3, 1, 5, 5)


def test_photometric_transforms():
    np.random.seed(0)
    x = np.random.rand(4, 16, 16).astype(np.float32)
    mask = np.ones((16, 16), bool)
    mask[0, 0] = False
    base = dict(hr=x * mask, hr_mask=mask)
    out = RandomSolarize(threshold=0.5, prob=1.0)(dict(base))['hr']
    np.testing.assert_allclose(out, np.where(x >= 0.5, 1 - x, x) * mask, rtol=1e-6)
    out = RandomColorJitter(
        prob=1.0, brightness=0.5, contrast=0.5, saturation=0.5)(dict(base))['hr']
    np.testing.assert_array_equal(out[3], base['hr'][3])  # NIR untouched
    assert out[:3].min() >= 0 and out[:3].max() <= 1 and out[0, 0, 0] == 0
    assert not np.allclose(out[:3], base['hr'][:3])
    blurred = RandomGaussianBlur(sigma=(2.0, 2.0), prob=1.0)(dict(base))['hr']
    assert blurred[1:].std() < base['hr'][1:].std() / 2  # noise is smoothed
    with pytest.raises(ValueError, match=r"'hr' must be a static \(C, H, W\) image"):
        RandomSolarize(prob=1.0)(dict(hr=np.zeros((2, 3, 4, 4), np.float32)))


def test_cloud_filter_from_scl():
    s2 = np.arange(4, dtype=np.float32)[:, None, None, None] * np.ones((4, 2, 4, 4))
    scl = np.full((4, 1, 4, 4), 4.0)  # vegetation
    scl[1] = 9.0  # all cloud (high probability)
    scl[2, 0, :2] = 3.0  # 8 of 16 pixels cloud shadow -> 0.5
    r = dict(
        s2=s2,
        s2_mask=np.ones((4, 4, 4), bool),
        s2_doy=np.array([1, 2, 3, 4]),
        s2_dates=['a', 'b', 'c', 'd'],
        s2_scl=scl,
        s2_scl_doy=np.array([1, 2, 3, 4]),
        modalities_present=['s2', 's2_scl'])
    out = FilterCloudyDates(max_cloud_fraction=0.4)(dict(r))
    assert out['s2_doy'].tolist() == [1, 4] and out['s2_dates'] == ['a', 'd']
    assert out['s2'][:, 0, 0, 0].tolist() == [0, 3]
    assert 's2_scl' not in out and out['modalities_present'] == ['s2']
    out = FilterCloudyDates(max_cloud_fraction=0.0, min_dates=3)(dict(r))
    assert out['s2_doy'].tolist() == [1, 3, 4]  # the three least cloudy, in order
    np.testing.assert_allclose(out['s2_cloud_fraction'], [0, 0.5, 0])
    # Sampling afterwards keeps the fractions with their dates (and pads them).
    out = TemporalSample(lengths=dict(s2=4), mode='even')(out)
    assert out['s2_doy'].tolist() == [1, 3, 4, 0]
    np.testing.assert_allclose(out['s2_cloud_fraction'], [0, 0.5, 0, 0])
    with pytest.raises(KeyError, match="cloud layer 'clouds' is not loaded"):
        FilterCloudyDates(cloud_key='clouds')(dict(r))


def test_cloud_filter_with_a_probability_mask():
    prob = np.zeros((3, 4, 4), np.float32)
    prob[0] = 0.9
    r = dict(
        s2=np.zeros((3, 2, 4, 4), np.float32),
        s2_doy=np.array([1, 2, 3]),
        s2_cloudprob=prob)
    out = FilterCloudyDates(cloud_key='s2_cloudprob', kind='mask')(r)
    assert out['s2_doy'].tolist() == [2, 3]
    assert torch.is_tensor(torch.from_numpy(out['s2']))


def test_aligned_center_crop_is_centred():
    from eofm.datasets.transforms import AlignedCenterCrop
    img = np.arange(12 * 12, dtype=np.float32).reshape(1, 12, 12)
    seg = np.arange(12 * 12).reshape(12, 12)
    s2 = np.zeros((2, 3, 3, 3), np.float32)  # 4 reference px per s2 px
    out = AlignedCenterCrop(
        size=8, reference='aerial')(
            dict(
                aerial=img.copy(), gt_seg_map=seg.copy(),
                modalities_present=['aerial']))
    assert out['aerial'].shape == (1, 8, 8)
    np.testing.assert_array_equal(out['gt_seg_map'], seg[2:10, 2:10])
    # offsets follow the coarsest grid: (12 - 4) // 2 = 4 -> 4
    out = AlignedCenterCrop(
        size=4, reference='aerial')(
            dict(
                aerial=img.copy(),
                s2=s2.copy(),
                gt_seg_map=seg.copy(),
                modalities_present=['aerial', 's2']))
    np.testing.assert_array_equal(out['gt_seg_map'], seg[4:8, 4:8])
    assert out['s2'].shape == (2, 3, 1, 1)
    with pytest.raises(ValueError, match='AlignedCenterCrop'):
        AlignedCenterCrop(
            size=6, reference='aerial')(
                dict(
                    aerial=img.copy(),
                    s2=s2.copy(),
                    modalities_present=['aerial', 's2']))
