"""The sample generator's 'hard' variant: classes that no single date, modality or
pixel separates (texture, phenology timing, SAR-only flooding, regional signatures)."""
import json
import os.path as osp

import numpy as np
import pytest

from eofm.datasets.sample_data import (CLASS_SPECS, HARD_CLASSES, flooded, generate,
                                       phenology, _region_factor)


@pytest.fixture(scope='module')
def hard_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('hard'))
    generate(root, num_tiles=24, variant='hard', seed=1)
    return root


def _read(root, rel):
    from osgeo import gdal
    return gdal.Open(osp.join(root, rel)).ReadAsArray().astype(np.float64)


def test_the_pairs_share_all_but_one_cue():
    for a, b in (('orchard', 'forest'), ('rice', 'summer_crop')):
        assert CLASS_SPECS[a]['like'] == CLASS_SPECS[b]['like']
        assert CLASS_SPECS[a]['pheno'] == CLASS_SPECS[b]['pheno']
    # the crops differ by timing only: greener in spring, or in summer
    assert phenology('winter_crop', 90, 45) == 1 and phenology('summer_crop', 90, 45) < 0.1
    assert phenology('summer_crop', 190, 45) == 1 and phenology('winter_crop', 190, 45) < 0.1
    # the southern hemisphere's seasons are half a year off, flooding too
    assert phenology('winter_crop', 272, -30) == pytest.approx(1.0)
    assert flooded('rice', 130, 45) and not flooded('rice', 130, -30)
    assert flooded('rice', 312, -30) and not flooded('summer_crop', 130, 45)
    # the same class has another signature in another region, the same in one
    assert not np.allclose(_region_factor('Paris', 'forest'), _region_factor('Delhi', 'forest'))
    assert np.array_equal(_region_factor('Paris', 'forest'), _region_factor('Paris', 'forest'))


def test_generated_files_show_the_cues(hard_root):
    meta = json.load(open(osp.join(hard_root, 'train.json')))
    assert meta['metainfo']['classes'] == list(HARD_CLASSES)
    assert meta['metainfo']['generator']['variant'] == 'hard'
    entries = meta['data_list'] + json.load(open(osp.join(hard_root, 'val.json')))['data_list']
    rice = HARD_CLASSES.index('rice')
    seen_flood, nir = False, {'orchard': [], 'forest': []}
    for e in entries:
        labels = _read(hard_root, e['label_maps']['gt_seg_map']['path'])
        s1 = _read(hard_root, e['modalities']['s1']['path'])
        s1 = s1.reshape(-1, 2, *labels.shape)
        lat = None
        for t, date in enumerate(e['modalities']['s1']['dates']):
            import datetime
            doy = datetime.date.fromisoformat(date).timetuple().tm_yday
            sel = labels == rice
            if not sel.any():
                continue
            lat = 1 if e['region'] not in ('Nairobi', 'Sao Paulo', 'Sydney') else -1
            vv = 10 * np.log10(s1[t, 0][sel].mean())
            if flooded('rice', doy, lat):  # water-like, far below dry crops (-11 dB)
                assert vv < -17, (e['sample_id'], date, vv)
                seen_flood = True
        hr = _read(hard_root, e['modalities']['hr']['path'])
        k = hr.shape[-1] // labels.shape[-1]
        labels_hr = np.kron(labels, np.ones((k, k)))
        for cls in nir:
            nir[cls].append(hr[3][labels_hr == HARD_CLASSES.index(cls)])
    assert seen_flood
    # orchards: crowns on a grid with soil between; forest: a closed canopy
    cv = {c: np.concatenate(v).std() / np.concatenate(v).mean() for c, v in nir.items()}
    assert cv['orchard'] > 1.5 * cv['forest']


def test_default_variant_is_unchanged_and_bad_variant_named(tmp_path):
    generate(str(tmp_path / 'd'), num_tiles=2)
    meta = json.load(open(tmp_path / 'd' / 'train.json'))['metainfo']
    assert meta['classes'] == ['water', 'forest', 'cropland', 'urban', 'bare']
    with pytest.raises(ValueError, match="variant must be one of"):
        generate(str(tmp_path / 'x'), num_tiles=2, variant='harder')


def test_num_val_sets_the_validation_split(tmp_path):
    """``num_val``: the first tiles generated are the validation split, and the
    tiles are the same as in a smaller generation with the same seed."""
    train, val = generate(str(tmp_path / 'a'), num_tiles=6, num_val=4)
    ids = [[e['sample_id'] for e in json.load(open(f))['data_list']] for f in (train, val)]
    assert ids == [['tile_0004', 'tile_0005'], [f'tile_000{i}' for i in range(4)]]
    generate(str(tmp_path / 'b'), num_tiles=4)
    assert open(tmp_path / 'a' / 's2' / 'tile_0003.tif', 'rb').read() == open(
        tmp_path / 'b' / 's2' / 'tile_0003.tif', 'rb').read()
    with pytest.raises(ValueError, match=r'num_val must be in \[0, num_tiles\)'):
        generate(str(tmp_path / 'c'), num_tiles=4, num_val=4)
