"""Folders of real-format rasters -> annotation files -> dataset + pipeline."""
import datetime
import json
import shutil

import numpy as np
import pytest

from eofm.datasets import MultiModalDataset
from eofm.datasets.folder_builder import (FilePattern, FolderBuildError, block_split,
                                          build_folder_annotations)
from tests.helpers.fake_geo import write_geotiff
from tests.helpers.own_folders import (LABELS, MODALITIES, REGIONS, S2_BANDS, S2_NAME,
                                       _label, _s1_expected, _s1_origin, _s2_values,
                                       _transform, write_folders)

def _build(root, out, **kwargs):
    kwargs.setdefault('labels', LABELS)
    return build_folder_annotations(
        str(root),
        MODALITIES,
        str(out),
        tile_size=16,
        block_size=2,
        seed=3,
        progress=False,
        **kwargs)


def _pipeline():
    return [
        dict(
            type='eofm.LoadMultiModalTiles',
            reference='s2',
            modalities=dict(s2=dict(bands=['B4', 'B8']), s1=dict(), hr=dict()),
            label_maps=dict(gt_seg_map=dict(like='s2'))),
        dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1', 'hr']),
    ]


@pytest.mark.parametrize('pattern, name, fields', [
    ('S2?_MSIL2A_{date}_{}_{}_{region}_*.tif',
     'S2A_MSIL2A_20210105T103421_N0214_R108_T32TQM_20210105T124851.tif',
     dict(date=datetime.date(2021, 1, 5), region='T32TQM')),
    ('LC08_{}_{}_{date:%Y%m%d}_*.tif',
     'LC08_L2SP_196030_20210514_20210525_02_T1_SR.tif',
     dict(date=datetime.date(2021, 5, 14))),
    ('{date}.tif', '20210105.tif', dict(date=datetime.date(2021, 1, 5))),
    ('{date}.tif', '2021-01-05.tif', dict(date=datetime.date(2021, 1, 5))),
    ('L8_{date:%Y%j}_{band}.tif', 'L8_2021005_B4.tif',
     dict(date=datetime.date(2021, 1, 5), band='B4')),
    (r'(?P<region>\w+?)_(?P<date>\d{8})\.tif', 'paris_20210105.tif',
     dict(region='paris', date=datetime.date(2021, 1, 5))),
])
def test_patterns_read_archive_names(pattern, name, fields):
    assert FilePattern(pattern).match(name) == fields


def test_ambiguous_patterns_and_bad_dates_are_errors():
    landsat = 'LC08_L2SP_196030_20210514_20210525_02_T1_SR.tif'
    with pytest.raises(
            FolderBuildError, match=r'reads .*LC08.* in two ways.*'
            r'20210514.*20210525'):
        FilePattern('LC08_*_{date}_*.tif', "modality 'l8'").match(landsat)
    with pytest.raises(FolderBuildError, match='two ways'):
        FilePattern('*{date}*.tif').match(
            'S2A_MSIL2A_20210105T103421_N0214_R108_T32TQM_20210105T124851.tif')
    # a date never starts inside a run of digits: 202101051 is no date
    assert FilePattern('x{date:%Y%m%d}*.tif').match('x202101051.tif') is None
    with pytest.raises(ValueError, match='not a valid date'):
        FilePattern('{date}.tif').match('20211305.tif')
    with pytest.raises(FolderBuildError, match="uses '%e'"):
        FilePattern('{date:%e}.tif')
    assert FilePattern('S2_{date:%Y%m%d}_*.tif').match('S1_20210105_x.tif') is None


def test_block_split_is_seeded_and_follows_fractions():
    blocks = [(i, j) for i in range(40) for j in range(40)]
    splits = [block_split(0, 'a', b, (0.7, 0.15, 0.15)) for b in blocks]
    assert splits == [block_split(0, 'a', b, (0.7, 0.15, 0.15)) for b in blocks]
    counts = np.bincount(splits, minlength=3) / len(blocks)
    assert np.allclose(counts, (0.7, 0.15, 0.15), atol=0.04)
    assert splits != [block_split(1, 'a', b, (0.7, 0.15, 0.15)) for b in blocks]
    assert {block_split(5, 'a', b, (0.0, 1.0, 0.0)) for b in blocks} == {1}


def test_folders_to_annotations_load_through_the_pipeline(tmp_path):
    s1_origin = write_folders(tmp_path / 'data')
    out = tmp_path / 'data' / 'ann'
    res = _build(tmp_path / 'data', out)
    assert res['problems'] == []
    # 2 regions x 4 x 4 windows of 16 px, all covered by every modality
    assert sum(res['counts'].values()) == 32 and res['dropped'] == {}
    summary = res['summary']
    assert '| s2 (reference) | 6 | 2021-01-05 .. 2021-03-20 (3) | B2, B3, B4, B8 | ' \
           '10 x 10 | EPSG:32632 |' in summary
    assert '| s1 | 2 | 2021-01-07 .. 2021-02-19 (2) | VV, VH | 20 x 20 | EPSG:32631 |' \
        in summary
    assert '| hr | 6 | - | R, G, B | 2.5 x 2.5 | EPSG:32632 |' in summary
    assert "s1: 1 file(s) did not match the pattern (e.g. README.txt)" in summary
    assert (out / 'summary.md').read_text().strip() == summary

    # splits by blocks of 2 x 2 windows: a block never straddles two splits
    block_of = {}
    for split in ('train', 'val', 'test'):
        ann = json.loads((out / f'{split}.json').read_text())
        assert ann['metainfo']['split'] == split
        assert ann['metainfo']['bands']['s1'] == ['VV', 'VH']
        for s in ann['data_list']:
            x, y, w, h = s['window']
            assert (w, h) == (16, 16)
            key = (s['sample_id'].split('_')[0], y // 32, x // 32)
            assert block_of.setdefault(key, split) == split
    assert len(block_of) == 8

    ds = MultiModalDataset(
        ann_file='train.json', data_root=str(out), pipeline=_pipeline())
    assert len(ds) == res['counts']['train'] > 0
    for idx in range(len(ds)):
        info = ds.get_data_info(idx)
        region = info['sample_id'].split('_')[0]
        r = list(REGIONS).index(region)
        x, y, _, _ = info['window']
        item = ds[idx]
        inputs, sample = item['inputs'], item['data_samples']
        # S2: B4 and B8 of every date, the window's own pixels
        assert inputs['s2'].shape == (3, 2, 16, 16)
        for t in range(3):
            src = _s2_values(t, r)[[2, 3], y:y + 16, x:x + 16]
            assert np.array_equal(inputs['s2'][t].numpy(), src.astype(np.float32))
        assert inputs['s2_doy'].tolist() == [5, 46, 79]
        assert np.array_equal(sample.gt_seg_map.numpy(),
                              _label(r)[y:y + 16, x:x + 16].astype(np.int64))
        # HR: 4 px per S2 pixel, stacked from its band files
        assert inputs['hr'].shape == (3, 64, 64)
        yy, xx = np.mgrid[:64, :64]
        exp_r = ((x * 4 + xx) // 4 + (y * 4 + yy) // 4) % 256
        assert np.array_equal(inputs['hr'][0].numpy(), exp_r.astype(np.float32))
        # S1 warped from UTM 31N: the tile mean is the value at the tile centre
        assert inputs['s1'].shape[:2] == (2, 2) and bool(inputs['s1_mask'].all())
        ox, oy = REGIONS[region]
        cx, cy = ox + (x + 8) * 10.0, oy - (y + 8) * 10.0
        e31, n31 = _transform(cx, cy, 32632, 32631)
        for t in range(2):
            vv, vh = _s1_expected(e31, n31, s1_origin, t)
            got = inputs['s1'][t].double().mean(dim=(1, 2)).numpy()
            assert np.allclose(got, (vv, vh), atol=0.5), (got, vv, vh)
        assert sample.metainfo['s1_dates'] == ['2021-01-07', '2021-02-19']

    # VRTs name their sources relatively: the folder tree can move
    vrts = sorted((out / 'vrt').rglob('*.vrt'))
    assert len(vrts) == 4  # 2 S1 dates warped for each of 2 regions
    assert all(str(tmp_path) not in p.read_text() for p in vrts)
    first_s1 = ds[0]['inputs']['s1'].numpy()
    moved = tmp_path / 'moved'
    shutil.move(str(tmp_path / 'data'), str(moved))
    ds2 = MultiModalDataset(
        ann_file='train.json', data_root=str(moved / 'ann'), pipeline=_pipeline())
    assert np.array_equal(ds2[0]['inputs']['s1'].numpy(), first_s1)

    # deterministic: the same folders give the same annotation files
    again = _build(moved, tmp_path / 'again')
    for split in ('train', 'val', 'test'):
        a = json.loads((moved / 'ann' / f'{split}.json').read_text())['data_list']
        b = json.loads((tmp_path / 'again' / f'{split}.json').read_text())['data_list']
        assert [s['window'] for s in a] == [s['window'] for s in b]
        assert [s['sample_id'] for s in a] == [s['sample_id'] for s in b]
    assert again['counts'] == res['counts']


def test_missing_band_is_an_error_or_reported(tmp_path):
    write_folders(tmp_path, drop_band=('T32TPM', 'G'))
    with pytest.raises(FolderBuildError) as e:
        _build(tmp_path, tmp_path / 'ann')
    msg = str(e.value)
    assert "T32TPM_B.tif: modality 'hr', region 'T32TPM': band file(s) for ['G'] " \
           "missing (found bands ['B', 'R'], expected one file per band of " \
           "['R', 'G', 'B'])" in msg
    assert not (tmp_path / 'ann' / 'train.json').exists()
    res = _build(tmp_path, tmp_path / 'ann', skip_bad=True)
    assert len(res['problems']) == 1
    assert res['dropped'] == {'hr': 16}  # the second region has no usable HR
    assert sum(res['counts'].values()) == 16
    assert "dropped 16 (not covered by 'hr')" in res['summary']
    assert 'problems: 1' in (tmp_path / 'ann' / 'summary.md').read_text()


def test_every_bad_file_is_named(tmp_path):
    write_folders(tmp_path)
    bad_s2 = tmp_path / 's2' / S2_NAME.format(d='20210401', tile='T32TQM')
    bad_s2.write_bytes(b'II*\x00 truncated')
    # a label raster without geo-referencing, and one far away
    from osgeo import gdal
    ds = gdal.GetDriverByName('GTiff').Create(
        str(tmp_path / 'labels' / 'T32TQM.tif'), 8, 8, 1, gdal.GDT_Byte)
    ds = None
    write_geotiff(tmp_path / 'labels' / 'T32TPM.tif', _label(1), (700000.0, 5400000.0),
                  10.0, 32632)
    # one S2 date with 3 of the 4 bands
    three = tmp_path / 's2' / S2_NAME.format(d='20210410', tile='T32TPM')
    write_geotiff(
        three,
        _s2_values(0, 1)[:3],
        REGIONS['T32TPM'],
        10.0,
        32632,
        band_names=S2_BANDS[:3])
    with pytest.raises(FolderBuildError) as e:
        _build(tmp_path, tmp_path / 'ann')
    msg = str(e.value)
    assert '4 problem(s) found' in msg
    assert f'{bad_s2}: not a readable raster' in msg
    assert 'T32TQM.tif: has no geotransform (not geo-referenced)' in msg
    assert f"{three}: modality 's2' expects 4 bands ['B2', 'B3', 'B4', 'B8'], the " \
           "file has 3 ['B2', 'B3', 'B4']" in msg
    assert "T32TPM.tif: modality 'gt_seg_map', region 'T32TPM': does not overlap the " \
           'reference raster' in msg


def test_configuration_errors_name_the_option(tmp_path):
    write_folders(tmp_path)
    with pytest.raises(FolderBuildError, match=r"modality 'x': folder .*nope does not"):
        build_folder_annotations(
            str(tmp_path),
            dict(x=dict(dir='nope', pattern='*')),
            str(tmp_path / 'a'),
            progress=False)
    with pytest.raises(
            FolderBuildError,
            match=r"no file in .*s1 matches the pattern "
            r"'S2_\{date\}\.tif' \(found: "):
        build_folder_annotations(
            str(tmp_path),
            dict(s1=dict(dir='s1', pattern='S2_{date}.tif')),
            str(tmp_path / 'a'),
            progress=False)
    with pytest.raises(FolderBuildError, match='fractions'):
        _build(tmp_path, tmp_path / 'a', fractions=(0.5, 0.5, 0.5))


def test_command_line_tool(tmp_path, python_exe, cli_env, repo_root):
    import subprocess
    write_folders(tmp_path / 'data', drop_band=('T32TPM', 'G'))
    cmd = [
        python_exe, 'tools/dataset_converters/folder_to_annotations.py',
        str(tmp_path / 'data'), '--out-dir',
        str(tmp_path / 'ann'), '--tile-size', '32', '--block-size', '1', '--seed', '1'
    ]
    for name, spec in MODALITIES.items():
        cmd += [
            '--modality', name, spec['dir'], spec['pattern'], '--bands', name,
            *spec['bands']
        ]
    cmd += ['--label', 'gt_seg_map', 'labels', '{region}.tif']
    proc = subprocess.run(
        cmd, cwd=repo_root, env=cli_env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "band file(s) for ['G'] missing" in proc.stderr
    assert 'Traceback' not in proc.stderr
    proc = subprocess.run(
        cmd + ['--skip-bad'],
        cwd=repo_root,
        env=cli_env,
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr
    total = sum(
        len(json.loads((tmp_path / 'ann' / f'{s}.json').read_text())['data_list'])
        for s in ('train', 'val', 'test'))
    assert total == 4  # 2 x 2 windows of 32 px in the region with every HR band
    assert 'samples ->' in proc.stdout
