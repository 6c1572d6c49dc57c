"""Checks of LoadMultiModalTiles on real-format inputs: series dates (range, repeats,
empty lists, order) and modalities in another CRS than the reference."""
import copy
import json
import warnings

import numpy as np
import pytest

from eofm.datasets.transforms import LoadMultiModalTiles


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    from eofm.datasets.sample_data import generate
    root = tmp_path_factory.mktemp('dates')
    generate(str(root), num_tiles=2)
    entry = json.load(open(root / 'train.json'))['data_list'][0]
    for desc in entry['modalities'].values():
        for k in ('path', ):
            desc[k] = str(root / desc[k])
    return entry


def _load(entry, **kw):
    t = LoadMultiModalTiles(dict(s1=dict(bands=['VV', 'VH'])), **kw)
    return t(dict(sample_id=entry['sample_id'], modalities=copy.deepcopy(entry['modalities']),
                  label_maps={}))


def _with_dates(entry, dates):
    e = copy.deepcopy(entry)
    e['modalities']['s1']['dates'] = dates
    return e


def test_unordered_dates_are_sorted_with_their_data_or_refused(sample):
    ref = _load(sample)
    dates = sample['modalities']['s1']['dates']
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        rev = _load(_with_dates(sample, dates[::-1]))
    assert any('not in chronological order: sorted' in str(w.message) for w in caught)
    assert rev['s1_dates'] == sorted(dates)
    # the file's first date-block now belongs to the last date: sorting reverses them
    assert np.array_equal(rev['s1'], ref['s1'][::-1])
    with pytest.raises(ValueError, match=r"modality 's1': dates are not in chronological"):
        _load(_with_dates(sample, dates[::-1]), date_order='error')


def test_impossible_repeated_and_missing_dates_name_the_sample(sample):
    dates = list(sample['modalities']['s1']['dates'])
    far = dates[:-1] + ['2099-06-01']
    with pytest.raises(ValueError, match=r"sample tile_\d+, modality 's1': dates "
                       r"\['2099-06-01'\] are outside 1960-01-01"):
        _load(_with_dates(sample, far))
    twice = dates[:-1] + [dates[0]]
    with pytest.raises(ValueError, match=r'given more than once'):
        _load(_with_dates(sample, sorted(twice)))
    with pytest.raises(ValueError, match=r"modality 's1' has an empty \"dates\" list"):
        _load(_with_dates(sample, []))
    with pytest.raises(ValueError, match="date_order must be 'sort' or 'error'"):
        LoadMultiModalTiles(dict(s1={}), date_order='keep')


def test_a_modality_in_another_crs_is_refused_naming_both(sample, tmp_path):
    """S1 tagged with the neighbouring UTM zone used to load the same arrays."""
    from osgeo import gdal, osr
    s1 = sample['modalities']['s1']['path']
    ref = gdal.Open(s1)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(ref.GetProjection())
    epsg = int(srs.GetAuthorityCode(None))
    moved = str(tmp_path / 's1_other_zone.tif')
    gdal.Translate(moved, ref, outputSRS=f'EPSG:{epsg + 1}')
    entry = copy.deepcopy(sample)
    entry['modalities']['s1']['path'] = moved
    t = LoadMultiModalTiles(dict(s2=dict(bands=['B2']), s1=dict(bands=['VV'])),
                            reference='s2')
    with pytest.raises(Exception, match=rf"s1_other_zone.tif is in another CRS "
                       rf"\(EPSG:{epsg + 1}\) than the reference .* \(EPSG:{epsg}\)"):
        t(dict(sample_id='x', modalities=entry['modalities'], label_maps={}))
