"""Raster sources: per-band files, npy and HDF5 arrays, PNG patches, label maps."""
import cv2
import h5py
import numpy as np
import pytest

from eofm.datasets import LoadMultiModalTiles
from eofm.datasets.geo_io import RasterReadError
from tests.helpers.fake_geo import write_geotiff


def test_band_files_stack_at_the_finest_resolution(tmp_path):
    # BigEarthNet-style: a 10 m band (4 x 4 px) and a 20 m band (2 x 2 px).
    b2 = write_geotiff(
        tmp_path / 'B02.tif', np.arange(16, dtype=np.uint16).reshape(4, 4), pixel=10.0)
    b5 = write_geotiff(
        tmp_path / 'B05.tif', np.array([[1, 2], [3, 4]], np.uint16), pixel=20.0)
    load = LoadMultiModalTiles(dict(s2=dict(bands=['B05', 'B02'], resample='nearest')))
    out = load(dict(modalities=dict(s2=dict(band_paths=[b2, b5]))))
    assert out['s2'].shape == (2, 4, 4)
    # The 20 m pixel (row 1, col 0) = 3 covers 10 m rows 2-3, cols 0-1.
    assert out['s2'][0, 2:, :2].tolist() == [[3, 3], [3, 3]]
    assert out['s2'][1].ravel().tolist() == list(range(16))
    assert out['geo']['lat'] == pytest.approx(45.15, abs=0.05)


def test_npy_series_patch_with_window_and_label_map(tmp_path):
    # PASTIS-style: (T, C, H, W) series as .npy and a target .npy, no geo-referencing.
    series = np.arange(3 * 2 * 8 * 8, dtype=np.int16).reshape(3, 2, 8, 8)
    np.save(tmp_path / 'S2.npy', series)
    target = np.zeros((3, 8, 8), np.uint8)
    target[0, 4:, 4:] = 7
    np.save(tmp_path / 'T.npy', target)
    load = LoadMultiModalTiles(
        dict(s2=dict()), label_maps=dict(gt_seg_map=dict(like='s2')))
    sample = dict(
        sample_id='p1',
        modalities=dict(
            s2=dict(
                path=str(tmp_path / 'S2.npy'),
                format='npy',
                dates=['20190105', '20190301', '20191231'])),
        label_maps=dict(gt_seg_map=dict(path=str(tmp_path / 'T.npy'), format='npy')),
        geo=dict(lon=2.35, lat=48.85),
        window=(2, 4, 4, 4))
    out = load(sample)
    assert out['s2'].shape == (3, 2, 4, 4)
    np.testing.assert_array_equal(out['s2'], series[:, :, 4:8, 2:6])
    assert out['s2_doy'].tolist() == [5, 60, 365]
    assert out['gt_seg_map'].dtype == np.int64
    assert out['gt_seg_map'].tolist() == [[0, 0, 7, 7]] * 4
    assert (out['geo']['lon'], out['geo']['lat']) == (2.35, 48.85)
    assert out['geo']['bounds'] is None


def test_h5_series_resampled_to_a_size(tmp_path):
    path = tmp_path / 'tile.h5'
    with h5py.File(path, 'w') as f:
        f['sen-2-data'] = np.ones(
            (5, 3, 6, 6), np.float32) * np.arange(5)[:, None, None, None]
    load = LoadMultiModalTiles(dict(s2=dict(size=(12, 12))))
    desc = dict(
        path=str(path),
        format='h5',
        key='sen-2-data',
        dates=[f'2020-0{i + 1}-01' for i in range(5)])
    out = load(dict(modalities=dict(s2=desc)))
    assert out['s2'].shape == (5, 3, 12, 12)
    assert out['s2'][:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(RasterReadError, match=r"tile.h5: HDF5 dataset key 'nope'"):
        load(dict(modalities=dict(s2=dict(desc, key='nope'))))


def test_png_pair_is_a_co_registered_patch(tmp_path):
    # LEVIR-CD-style: pre/post PNGs and a change PNG, all without geo-referencing.
    pre = np.zeros((8, 8, 3), np.uint8)
    pre[:, :, 2] = 255  # cv2 writes BGR: band 1 (R) is 255
    cv2.imwrite(str(tmp_path / 'A.png'), pre)
    cv2.imwrite(str(tmp_path / 'B.png'), pre // 2)
    change = np.zeros((8, 8), np.uint8)
    change[2, 3] = 255
    cv2.imwrite(str(tmp_path / 'L.png'), change)
    load = LoadMultiModalTiles(
        dict(pre=dict(scale='uint8'), post=dict(scale='uint8')),
        label_maps=dict(gt_change_map=dict(like='pre')))
    out = load(
        dict(
            modalities=dict(
                pre=dict(path=str(tmp_path / 'A.png')),
                post=dict(path=str(tmp_path / 'B.png'))),
            label_maps=dict(gt_change_map=dict(path=str(tmp_path / 'L.png')))))
    assert out['pre'].shape == (3, 8, 8) and out['pre'][0].min() == 1.0
    assert out['post'][0, 0, 0] == pytest.approx(127 / 255)
    assert np.argwhere(out['gt_change_map']).tolist() == [[2, 3]]


def test_label_map_errors(tmp_path):
    img = write_geotiff(tmp_path / 'x.tif', np.ones((1, 4, 4), np.uint8))
    load = LoadMultiModalTiles(dict(hr=dict()), label_maps=dict(gt_seg_map=dict()))
    with pytest.raises(KeyError, match="label map 'gt_seg_map' is missing"):
        load(dict(modalities=dict(hr=dict(path=img))))
    with pytest.raises(RasterReadError, match='y.tif: file not found'):
        load(
            dict(
                modalities=dict(hr=dict(path=img)),
                label_maps=dict(gt_seg_map=dict(path=str(tmp_path / 'y.tif')))))
    with pytest.raises(ValueError, match='label_maps.gt_seg_map.like must be one of'):
        LoadMultiModalTiles(
            dict(hr=dict()), label_maps=dict(gt_seg_map=dict(like='s2')))


def test_bad_format_and_corrupt_npy(tmp_path):
    bad = tmp_path / 'bad.npy'
    bad.write_bytes(b'garbage')
    load = LoadMultiModalTiles(dict(s2=dict()))
    with pytest.raises(RasterReadError, match='bad.npy: not a readable npy array'):
        load(dict(modalities=dict(s2=dict(path=str(bad), format='npy'))))
    with pytest.raises(ValueError, match="modality 's2'.*format must be one of"):
        load(dict(modalities=dict(s2=dict(path=str(bad), format='zarr'))))
    np.save(tmp_path / 'flat.npy', np.zeros((4, 4)))
    with pytest.raises(RasterReadError, match=r'flat.npy: expected a \(C, H, W\)'):
        load(
            dict(
                modalities=dict(s2=dict(path=str(tmp_path /
                                                 'flat.npy'), format='npy'))))


def test_channel_last_npz_series_and_sample_index(tmp_path):
    # PLANTED-style (T, H, W, C) archive and a So2Sat-style (N, H, W, C) HDF5 stack.
    series = np.arange(3 * 4 * 4 * 2, dtype=np.float32).reshape(3, 4, 4, 2)
    np.savez(tmp_path / 'x_s2.npz', series)
    stack = np.arange(5 * 4 * 4 * 3, dtype=np.float32).reshape(5, 4, 4, 3)
    with h5py.File(tmp_path / 'lcz.h5', 'w') as f:
        f['sen2'] = stack
    load = LoadMultiModalTiles(dict(s2=dict(bands=None), lcz=dict()))
    out = load(
        dict(
            modalities=dict(
                s2=dict(
                    path=str(tmp_path / 'x_s2.npz'),
                    format='npz',
                    axes='THWC',
                    dates=['2020-01-01', '2020-02-01', '2020-03-01']),
                lcz=dict(
                    path=str(tmp_path / 'lcz.h5'),
                    format='h5',
                    key='sen2',
                    axes='NHWC',
                    index=3))))
    assert out['s2'].shape == (3, 2, 4, 4)
    assert np.array_equal(out['s2'], series.transpose(0, 3, 1, 2))
    assert out['s2_doy'].tolist() == [1, 32, 61]
    assert np.array_equal(out['lcz'], stack[3].transpose(2, 0, 1))


def test_npz_band_keys_and_csv_pixel_series(tmp_path):
    # SICKLE-style: one (H, W) array per band in each date's archive.
    np.savez(tmp_path / 'd.npz', B2=np.full((2, 2), 2.0), B4=np.full((2, 2), 4.0))
    # TimeSen2Crop-style: one pixel, a row per date, a column per band.
    (tmp_path / 'p.csv').write_text('B2,B3,Flag\n10,20,0\n11,21,1\n')
    load = LoadMultiModalTiles(
        dict(s2=dict(bands=['B4', 'B2']), px=dict(bands=['B3', 'Flag'])))
    out = load(
        dict(
            modalities=dict(
                s2=dict(
                    paths=[str(tmp_path / 'd.npz')],
                    dates=['2021-05-01'],
                    format='npz',
                    keys=['B2', 'B4']),
                px=dict(
                    path=str(tmp_path / 'p.csv'),
                    format='csv',
                    dates=['2020-01-02', '2020-01-03']))))
    assert out['s2'].shape == (1, 2, 2, 2)
    assert out['s2'][0, :, 0, 0].tolist() == [4.0, 2.0]
    assert out['px'].shape == (2, 2, 1, 1)
    assert out['px'][:, :, 0, 0].tolist() == [[20, 0], [21, 1]]


@pytest.mark.parametrize('desc, message',
                         [(dict(format='npz', axes='THW'), 'do not describe shape'),
                          (dict(format='npz', axes='THWC', index=0), 'needs an N axis'),
                          (dict(format='npz', keys=['B9']), "array key 'B9' not found"),
                          (dict(format='npz', key='x'), "array key 'x' not found")])
def test_array_layout_errors_name_the_file(tmp_path, desc, message):
    np.savez(tmp_path / 'x.npz', np.zeros((2, 3, 3, 4), np.float32))
    load = LoadMultiModalTiles(dict(s2=dict()))
    with pytest.raises(RasterReadError, match=message) as e:
        load(dict(modalities=dict(s2=dict(path=str(tmp_path / 'x.npz'), **desc))))
    assert 'x.npz' in str(e.value)
