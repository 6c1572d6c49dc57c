"""LoadMultiModalTiles: footprints, alignment, bands, masks, scaling, dates, errors."""
import numpy as np
import pytest

from eofm.datasets.geo_io import RasterReadError
from eofm.datasets.transforms import LoadMultiModalTiles
from tests.helpers.fake_geo import write_geotiff

S2_BANDS = ['B2', 'B3', 'B4', 'B8']


@pytest.fixture
def tile(tmp_path):
    """A 60 m tile: HR 1 m (60 x 60 px, 3 bands), S2 at 10 m over a larger 200 m
    scene (3 dates, one file each), S1 stack at 10 m (2 dates x 2 bands)."""
    origin = (500000.0, 5000060.0)
    hr = np.zeros((3, 60, 60), np.uint8)
    hr[0] = np.arange(60)[None, :]  # red encodes the column in metres
    hr[1] = np.arange(60)[:, None]  # green encodes the row
    hr[2] = 200
    paths = dict(hr=write_geotiff(tmp_path / 'hr.tif', hr, origin, 1.0,
                                  band_names=['R', 'G', 'B']))
    s2_paths = []
    for t in range(3):
        # The S2 scene starts 70 m west and 50 m north of the tile.
        s2 = np.zeros((4, 20, 20), np.uint16)
        cols = np.arange(20)[None, :].repeat(20, 0)
        rows = np.arange(20)[:, None].repeat(20, 1)
        s2[0] = 1000 * (t + 1)
        s2[1] = cols * 100  # column index of the scene
        s2[2] = rows * 100
        s2[3] = 5000
        if t == 2:
            s2[:, 5:8, 7:10] = 0  # nodata in part of the tile
        s2_paths.append(write_geotiff(tmp_path / f's2_{t}.tif', s2,
                                      (origin[0] - 70, origin[1] + 50), 10.0, nodata=0))
    s1 = np.full((4, 10, 10), 0.1, np.float32)
    s1[1::2] = 0.01
    s1[2, 0, 0] = np.nan
    paths['s1'] = write_geotiff(tmp_path / 's1.tif', s1, origin, 10.0)
    sample = dict(
        sample_id='t0',
        modalities=dict(
            hr=dict(path=paths['hr']),
            s2=dict(paths=s2_paths, dates=['2020-01-05', '20200301', '2020-12-31'],
                    bands=S2_BANDS),
            s1=dict(path=paths['s1'], dates=['2020-02-01', '2020-02-13'],
                    bands=['VV', 'VH'])))
    return sample


def _loader(**kw):
    cfg = dict(
        hr=dict(bands=['R', 'G', 'B'], scale='uint8'),
        s2=dict(bands=['B4', 'B3', 'B2'], scale='reflectance'),
        s1=dict(scale='db'))
    cfg.update(kw)
    return LoadMultiModalTiles(modalities=cfg, reference='hr')


def test_shapes_alignment_and_geometry(tile):
    out = _loader()(dict(tile))
    assert out['hr'].shape == (3, 60, 60)
    assert out['s2'].shape == (3, 3, 6, 6)  # T, C (selected), 60 m / 10 m
    assert out['s1'].shape == (2, 2, 6, 6)
    # S2 pixel (r, c) of the tile is scene pixel (5 + r, 7 + c): exact alignment.
    np.testing.assert_allclose(out['s2'][0, 1], (7 + np.arange(6))[None, :].repeat(6, 0)
                               * 100 / 10000, rtol=1e-6)
    np.testing.assert_allclose(out['s2'][0, 0], (5 + np.arange(6))[:, None].repeat(6, 1)
                               * 100 / 10000, rtol=1e-6)
    # Bands come in the configured order (B4, B3, B2), B2 encodes the date.
    np.testing.assert_allclose(out['s2'][:, 2, 5, 5], [0.1, 0.2, 0.3], rtol=1e-6)
    assert out['hr'][0, 0, 59] == pytest.approx(59 / 255)
    assert out['geo']['bounds'] == (500000.0, 5000000.0, 500060.0, 5000060.0)
    assert 8.9 < out['geo']['lon'] < 9.1 and 45.1 < out['geo']['lat'] < 45.2


def test_dates_masks_and_db(tile):
    out = _loader()(dict(tile))
    assert out['s2_doy'].tolist() == [5, 61, 366]  # 2020 is a leap year
    assert out['s2_dates'] == ['2020-01-05', '2020-03-01', '2020-12-31']
    mask = out['s2_mask']
    assert mask.shape == (3, 6, 6) and mask[:2].all()
    # Scene rows 5..7, cols 7..9 were nodata at t=2: tile rows 0..2, cols 0..2.
    assert not mask[2, 0:3, 0:3].any() and mask[2, 3:, 3:].all()
    assert (out['s2'][2, :, 0:3, 0:3] == 0).all()
    np.testing.assert_allclose(out['s1'][0, 0], -10.0, rtol=1e-5)  # 0.1 -> -10 dB
    np.testing.assert_allclose(out['s1'][0, 1], -20.0, rtol=1e-5)
    assert not out['s1_mask'][1, 0, 0] and out['s1_mask'][1].sum() == 35


def test_window_reads_sub_footprint(tile):
    out = _loader()(dict(tile, window=(20, 10, 30, 30)))
    assert out['hr'].shape == (3, 30, 30)
    assert out['s2'].shape == (3, 3, 3, 3)
    assert out['hr'][0, 0, 0] == pytest.approx(20 / 255)
    assert out['s2'][0, 1, 0, 0] == pytest.approx((7 + 2) * 100 / 10000)


def test_gsd_resamples_to_common_grid(tile):
    out = _loader(s2=dict(bands=['B2'], scale='reflectance', gsd=5.0,
                          resample='nearest'))(dict(tile))
    assert out['s2'].shape == (3, 1, 12, 12)


def test_missing_band_names_the_file(tile):
    with pytest.raises(RasterReadError, match=r"s2_0.tif: modality 's2' needs bands"):
        _loader(s2=dict(bands=['B11']))(dict(tile))


def test_missing_modality_error_or_skip(tile):
    sample = dict(tile, modalities={k: v for k, v in tile['modalities'].items()
                                    if k != 's1'})
    with pytest.raises(KeyError, match="modality 's1' is missing"):
        _loader()(dict(sample))
    out = LoadMultiModalTiles(
        modalities=dict(hr=dict(), s1=dict()), missing='skip')(dict(sample))
    assert out['modalities_present'] == ['hr'] and 's1' not in out


def test_non_overlapping_footprint(tile, tmp_path):
    far = write_geotiff(tmp_path / 'far.tif', np.ones((2, 6, 6), np.float32),
                        (600000.0, 5000060.0), 10.0)
    sample = dict(tile)
    sample['modalities'] = dict(tile['modalities'], s1=dict(path=far))
    with pytest.raises(RasterReadError, match="modality 's1' does not cover"):
        _loader()(sample)


def test_corrupt_and_truncated_files(tile, tmp_path):
    bad = tmp_path / 'bad.tif'
    bad.write_bytes(b'not a tiff at all')
    sample = dict(tile, modalities=dict(tile['modalities'], hr=dict(path=str(bad))))
    with pytest.raises(RasterReadError, match='bad.tif: not a readable raster'):
        _loader()(sample)
    data = open(tile['modalities']['hr']['path'], 'rb').read()
    trunc = tmp_path / 'trunc.tif'
    trunc.write_bytes(data[:len(data) // 2])
    sample = dict(tile, modalities=dict(tile['modalities'], hr=dict(path=str(trunc))))
    with pytest.raises(RasterReadError, match='trunc.tif'):
        _loader()(sample)


def test_bad_dates_name_the_sample(tile):
    sample = dict(tile)
    sample['modalities'] = dict(tile['modalities'])
    sample['modalities']['s1'] = dict(tile['modalities']['s1'],
                                      dates=['2020-02-01', 'yesterday'])
    with pytest.raises(ValueError, match=r"sample t0, s1.dates: cannot parse date"):
        _loader()(sample)


def test_wrong_band_count_for_dates(tile):
    sample = dict(tile)
    sample['modalities'] = dict(tile['modalities'])
    sample['modalities']['s1'] = dict(tile['modalities']['s1'],
                                      dates=['2020-02-01', '2020-02-02', '2020-02-03'])
    with pytest.raises(RasterReadError, match='4 bands cannot hold 3 dates'):
        _loader()(sample)


# ------------------------------------------------------------------ real-format dates
# Landsat scene ids carry the acquisition as year + day of year (LXSPPPRRRYYYYDDD...).
LANDSAT_IDS = ['LE70440342008118EDC00', 'LT50440342008126PAC01', 'LE70440342008358EDC00']


def test_parse_date_year_day_ids_and_ambiguous_strings():
    import datetime
    from eofm.datasets.geo_io import parse_date
    days = [parse_date(i[9:16], 'scene id') for i in LANDSAT_IDS]
    assert days == [datetime.date(2008, 4, 27), datetime.date(2008, 5, 5),
                    datetime.date(2008, 12, 23)]
    assert parse_date('2008-118') == datetime.date(2008, 4, 27)  # ISO ordinal
    assert parse_date('20080427') == parse_date('2008-04-27T10:31:02Z')
    assert parse_date(20080427) == datetime.date(2008, 4, 27)
    assert parse_date('2008366') == datetime.date(2008, 12, 31)  # leap year
    for bad, why in [('2007366', 'day of year 366 does not exist in 2007'),
                     ('20080431', 'not a valid date'), ('27/04/2008', 'YYYYDDD'),
                     ('2008-4-7', 'cannot parse'), ('080427', 'cannot parse'),
                     (2008118.0, 'expected a string')]:
        with pytest.raises(ValueError, match=why):
            parse_date(bad, 'x.txt, line 3')
    # a named format must match exactly: %Y%m%d cannot read year-day ids
    with pytest.raises(ValueError, match=r"'2008118' is not written as the date "
                       r"format '%Y%m%d'"):
        parse_date('2008118', 'ids', fmt='%Y%m%d')
    assert parse_date('2008118', fmt='%Y%j') == datetime.date(2008, 4, 27)
    assert parse_date('27/04/2008', fmt='%d/%m/%Y') == datetime.date(2008, 4, 27)
    with pytest.raises(ValueError, match="does not match the date format '%d/%m/%Y'"):
        parse_date('2008-04-27', fmt='%d/%m/%Y')


def test_year_day_series_loads_with_the_right_days(tmp_path):
    """A Landsat-style series: one file per scene, -9999 nodata, year-day dates."""
    origin = (500000.0, 5000060.0)
    paths = []
    for t, _ in enumerate(LANDSAT_IDS):
        a = np.full((6, 2, 2), 1000 * (t + 1), np.int16)
        a[:, 0, 1] = -9999  # SLC-off stripe
        paths.append(write_geotiff(tmp_path / f'l7_{t}.tif', a, origin, 30.0,
                                   nodata=-9999))
    sample = dict(sample_id='landsat', modalities=dict(
        l7=dict(paths=paths, dates=[i[9:16] for i in LANDSAT_IDS])))
    out = LoadMultiModalTiles(modalities=dict(l7=dict()))(dict(sample))
    assert out['l7_doy'].tolist() == [118, 126, 358]
    assert out['l7_dates'] == ['2008-04-27', '2008-05-05', '2008-12-23']
    assert not out['l7_mask'][:, 0, 1].any() and out['l7_mask'][:, 1].all()
    # a dataset may name its format: a sample's own date_format, or the loader's
    dmy = ['27/04/2008', '05/05/2008', '23/12/2008']
    sample['modalities']['l7'] = dict(paths=paths, dates=dmy, date_format='%d/%m/%Y')
    out = LoadMultiModalTiles(modalities=dict(l7=dict()))(dict(sample))
    assert out['l7_doy'].tolist() == [118, 126, 358]
    sample['modalities']['l7'] = dict(paths=paths, dates=dmy)
    with pytest.raises(ValueError, match=r"sample landsat, l7.dates: cannot parse date "
                       r"'27/04/2008'"):
        LoadMultiModalTiles(modalities=dict(l7=dict()))(dict(sample))
    out = LoadMultiModalTiles(modalities=dict(l7=dict(date_format='%d/%m/%Y')))(
        dict(sample))
    assert out['l7_doy'].tolist() == [118, 126, 358]


def test_dataset_date_format_reaches_the_loader(tmp_path):
    import json
    from eofm.datasets import MultiModalDataset
    path = write_geotiff(tmp_path / 's.tif', np.ones((2, 2, 2), np.float32))
    ann = dict(metainfo=dict(), data_list=[dict(
        sample_id='a', modalities=dict(s2=dict(path=path, dates=['05.01.2020',
                                                                 '10.02.2020'])))])
    (tmp_path / 'ann.json').write_text(json.dumps(ann))
    pipeline = [dict(type='eofm.LoadMultiModalTiles', modalities=dict(s2=dict()))]
    ds = MultiModalDataset(ann_file=str(tmp_path / 'ann.json'), pipeline=pipeline,
                           date_format=dict(s2='%d.%m.%Y'))
    assert ds[0]['s2_doy'].tolist() == [5, 41]
    ds = MultiModalDataset(ann_file=str(tmp_path / 'ann.json'), pipeline=pipeline)
    with pytest.raises(ValueError, match=r"sample a, s2.dates: cannot parse date "
                       r"'05.01.2020'"):
        ds[0]


# ------------------------------------------------------------------ geotransform
def test_geotransform_is_that_of_the_loaded_reference_grid(tmp_path):
    """A reference read at another gsd: the geotransform has the loaded pixel size,
    so a raster written from the loaded array covers the footprint exactly."""
    from osgeo import gdal
    b02 = write_geotiff(tmp_path / 'B02.tif', np.ones((1, 64, 64), np.uint16),
                        (500000.0, 5000640.0), 10.0, band_names=['B02'])
    sample = dict(sample_id='s', modalities=dict(s2=dict(path=b02)))
    native = LoadMultiModalTiles(modalities=dict(s2=dict()))(dict(sample))
    assert native['geo']['geotransform'] == (500000.0, 10.0, 0.0, 5000640.0, 0.0, -10.0)
    out = LoadMultiModalTiles(modalities=dict(s2=dict(gsd=20)))(dict(sample))
    assert out['s2'].shape == (1, 32, 32)
    gt = out['geo']['geotransform']
    assert gt == (500000.0, 20.0, 0.0, 5000640.0, 0.0, -20.0)
    # written back with that geotransform, the array has the footprint's extent
    drv = gdal.GetDriverByName('MEM').Create('', 32, 32, 1, gdal.GDT_Float32)
    drv.SetGeoTransform(gt)
    x0, dx, _, y0, _, dy = drv.GetGeoTransform()
    assert (x0, y0 + 32 * dy, x0 + 32 * dx, y0) == out['geo']['bounds']
    # a fixed size: the pixel size follows it, in both axes
    out = LoadMultiModalTiles(modalities=dict(s2=dict(size=(16, 8))))(dict(sample))
    assert out['geo']['geotransform'][1] == 80.0 and out['geo']['geotransform'][5] == -40.0
