"""tools/misc/check_dataset.py reports every problem of a dataset at once."""
import json
import os.path as osp
import subprocess

import numpy as np

from tests.helpers.fake_geo import write_geotiff
from eofm.datasets.sample_data import generate


def _run(python_exe, repo_root, cli_env, *args):
    return subprocess.run([
        python_exe,
        osp.join(repo_root, 'tools/misc/check_dataset.py'),
        'configs/_base_/datasets/eofm_sample.py', *args
    ],
                          cwd=repo_root,
                          env=cli_env,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_reports_every_problem(tmp_path, python_exe, repo_root, cli_env):
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=8, size=8, hr_factor=2, seed=0)
    ann_path = osp.join(root, 'val.json')
    ann = json.load(open(ann_path))
    a, b = ann['data_list']  # val holds 2 of the 8 tiles
    # a: truncated Sentinel-1 file and an unparsable date.
    s1 = osp.join(root, a['modalities']['s1']['path'])
    data = open(s1, 'rb').read()
    open(s1, 'wb').write(data[:len(data) // 3])
    # b: a date that does not parse.
    b['modalities']['s1']['dates'][0] = '2021-13-45'
    json.dump(ann, open(ann_path, 'w'))
    out = tmp_path / 'report.json'
    res = _run(python_exe, repo_root, cli_env, '--splits', 'val', '--cfg-options',
               f'data_root={root}/', '--out', str(out))
    assert res.returncode == 1, res.stderr
    text = res.stdout
    assert '2 samples checked, 2 with problems' in text
    assert a['sample_id'] in text and osp.basename(s1) in text
    report = json.load(open(out))['report']['val']
    assert any("modality 's1' does not cover" in p or 'cannot be read' in p
               or 'not a readable raster' in p for p in report['0']['problems'])
    problems_b = ' '.join(report['1']['problems'])
    assert "cannot parse date '2021-13-45': not a valid date" in problems_b


def test_all_nodata_and_missing_annotation(tmp_path, python_exe, repo_root, cli_env):
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)  # the train crop fits
    ann = json.load(open(osp.join(root, 'val.json')))
    s2 = ann['data_list'][1]['modalities']['s2']
    src = osp.join(root, s2['path'])
    from osgeo import gdal
    ds = gdal.Open(src)
    gt, epsg = ds.GetGeoTransform(), int(ds.GetSpatialRef().GetAuthorityCode(None))
    ds = None
    write_geotiff(
        src,
        np.zeros((11 * len(s2['dates']), 32, 32), np.uint16),
        nodata=0,
        band_names=s2['bands'] * len(s2['dates']),
        origin=(gt[0], gt[3]),
        epsg=epsg)
    res = _run(python_exe, repo_root, cli_env, '--splits', 'val', 'train',
               '--cfg-options', f'data_root={root}/')
    assert res.returncode == 1
    assert 's2: every pixel is nodata/invalid' in res.stdout
    assert '8 samples checked, 1 with problems' in res.stdout
    res = _run(python_exe, repo_root, cli_env, '--splits', 'val', '--cfg-options',
               f'data_root={tmp_path}/nowhere/')
    assert res.returncode == 1
    assert 'cannot build' in res.stdout and 'val.json does not exist' in res.stdout


def _run_cfg(python_exe, repo_root, cli_env, config, *args):
    return subprocess.run(
        [python_exe, osp.join(repo_root, 'tools/misc/check_dataset.py'), config, *args],
        cwd=repo_root, env=cli_env, capture_output=True, text=True, timeout=300)


def _rename_objects(xml_path, names):
    import xml.etree.ElementTree as ET
    tree = ET.parse(xml_path)
    for obj, name in zip(tree.getroot().findall('object'), names):
        obj.find('name').text = name
    tree.write(xml_path)


def test_concat_dataset_split_with_data_root(tmp_path, python_exe, repo_root, cli_env):
    """DIOR's train split is a ConcatDataset (train + val lists): data_root reaches
    both and every image of both is checked."""
    from tests.helpers.fake_data.dior import make_dior
    fake = make_dior(tmp_path / 'dior')
    res = _run_cfg(python_exe, repo_root, cli_env, 'configs/_base_/datasets/dior_hbb.py',
                   '--splits', 'train', 'val', '--cfg-options',
                   f'data_root={fake["root"]}/', 'default_scope=mmdet')
    assert res.returncode == 0, res.stdout + res.stderr
    assert '5 samples checked, 0 with problems' in res.stdout


def test_unknown_classes_are_reported_per_file(tmp_path, python_exe, repo_root,
                                               cli_env):
    from tests.helpers.fake_data.dior import make_dior
    fake = make_dior(tmp_path / 'dior')
    hbb = osp.join(fake['root'], 'Annotations', 'Horizontal Bounding Boxes')
    # a tree survey laid out as DIOR: the train images hold trees only, the val one
    # a tree beside a known class
    _rename_objects(osp.join(hbb, '00001.xml'), ['tree', 'tree'])
    _rename_objects(osp.join(hbb, '00002.xml'), ['tree', 'Tree', 'tree'])
    _rename_objects(osp.join(hbb, '00003.xml'), ['tree'])
    out = tmp_path / 'report.json'
    res = _run_cfg(python_exe, repo_root, cli_env, 'configs/_base_/datasets/dior_hbb.py',
                   '--splits', 'train', '--cfg-options', f'data_root={fake["root"]}/',
                   'default_scope=mmdet', '--out', str(out))
    assert res.returncode == 1
    text = res.stdout
    assert "00001.xml: objects of classes not in the class list (dropped): " \
        "'tree' x 2" in text
    assert "'Tree' x 1, 'tree' x 2" in text  # 00002, counted by spelling
    assert "00003.xml: objects of classes not in the class list (dropped): " \
        "'tree' x 1" in text
    assert 'with problems' in text and '0 with problems' not in text
    # the val split (test images) has only DIOR classes: nothing to report there
    res = _run_cfg(python_exe, repo_root, cli_env, 'configs/_base_/datasets/dior_hbb.py',
                   '--splits', 'val', '--cfg-options', f'data_root={fake["root"]}/',
                   'default_scope=mmdet')
    assert res.returncode == 0, res.stdout


def _read(path):
    from osgeo import gdal
    ds = gdal.Open(path)
    arr = ds.ReadAsArray()
    gt, epsg = ds.GetGeoTransform(), int(ds.GetSpatialRef().GetAuthorityCode(None))
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    return arr.reshape(-1, *arr.shape[-2:]), gt, epsg, names, nodata


def _rewrite(path, fn=None, epsg=None, origin=None, pixel=None, dtype=None):
    """Rewrite a generated GeoTIFF with its values through ``fn`` (and another CRS,
    origin, pixel size or data type)."""
    arr, gt, own_epsg, names, nodata = _read(path)
    new = arr if fn is None else fn(arr)
    write_geotiff(path, new.astype(dtype or new.dtype), nodata=nodata,
                  band_names=names, origin=origin or (gt[0], gt[3]),
                  pixel=pixel or gt[1], epsg=epsg or own_epsg)


def test_one_run_reports_every_seeded_problem(tmp_path, python_exe, repo_root,
                                              cli_env):
    """A dataset with one sample of each problem of real archives: one run of the
    checker reports every one, each naming the sample, the file and the field."""
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=20, size=32, hr_factor=8, seed=0)
    ann_path = osp.join(root, 'train.json')
    ann = json.load(open(ann_path))
    samples = ann['data_list']
    assert len(samples) >= 14
    f = {k: osp.join(root, v['path']) for k, v in samples[0]['modalities'].items()}

    def files(i):
        return {k: osp.join(root, v['path']) for k, v in
                samples[i]['modalities'].items()}

    expect = {}  # sample index -> fragments its report must hold
    # 0: S1 tagged with the neighbouring UTM zone
    s1 = files(0)['s1']
    own = _read(s1)[2]
    _rewrite(s1, epsg=own - 1)
    expect[0] = [osp.basename(s1), 'another CRS', f'EPSG:{own - 1}']
    # 1: S2 stored as float reflectance, declared scale='reflectance' (DN)
    s2 = files(1)['s2']
    _rewrite(s2, lambda a: a / 10000.0, dtype=np.float32)
    expect[1] = [osp.basename(s2), "scale='reflectance'", 'reflectance already']
    # 2: HR stored as uint16, declared scale='uint8'
    hr = files(2)['hr']
    _rewrite(hr, lambda a: a.astype(np.uint16) * 257)
    expect[2] = [osp.basename(hr), "scale='uint8'", 'not 8-bit']
    # 3: S1 dates in 2099
    samples[3]['modalities']['s1']['dates'][0] = '2099-01-01'
    expect[3] = ["modality 's1'", '2099-01-01', 'outside']
    # 4: every S2 date the same
    for m in ('s2', 's2_scl'):
        d = samples[4]['modalities'][m]['dates']
        samples[4]['modalities'][m]['dates'] = [d[0]] * len(d)
    expect[4] = ["modality 's2'", 'more than once']
    # 5: S1 dates in reverse order (sorted, with a warning)
    samples[5]['modalities']['s1']['dates'].reverse()
    expect[5] = ["modality 's1'", 'not in chronological order']
    # 6: a class index beyond the 5 classes
    samples[6]['gt_label'] = 9
    expect[6] = ['gt_label', '[9]', '0..4', 'train.json']
    # 7: a segmentation label of 200
    lab = osp.join(root, samples[7]['label_maps']['gt_seg_map']['path'])
    _rewrite(lab, lambda a: np.where(np.arange(a.size).reshape(a.shape) % 7 == 0, 200,
                                     a).astype(np.uint8))
    expect[7] = ['gt_seg_map', '[200]', 'outside 0..4', osp.basename(lab)]
    # 8: S2 entirely nodata
    _rewrite(files(8)['s2'], lambda a: np.zeros_like(a))
    expect[8] = ['s2: every pixel is nodata/invalid']
    # 9: an empty date list
    samples[9]['modalities']['s1']['dates'] = []
    expect[9] = ["modality 's1'", 'empty "dates" list']
    # 10: S1 in geographic coordinates against the UTM reference
    s1 = files(10)['s1']
    _rewrite(s1, epsg=4326, origin=(151.0, -33.8), pixel=1e-4)
    expect[10] = [osp.basename(s1), 'EPSG:4326']
    # 11: a multi-label vector that is not multi-hot
    samples[11]['gt_labels'] = [0, 2, 1, 0, 0]
    expect[11] = ['gt_labels', 'not multi-hot']
    # 12: S1 far from the normalisation statistics (linear values 1e9 too large)
    _rewrite(files(12)['s1'], lambda a: a * 1e9)
    expect[12] = ['normalisation', 's1', 'channel 0']
    # 13: latitude 95 in the geo entry of a sample without geo-referencing
    d = samples[13]
    for name, desc in d['modalities'].items():
        src = osp.join(root, desc['path'])
        npy = osp.join(root, f'{name}_{d["sample_id"]}.npy')
        arr, *_ = _read(src)
        n = len(desc.get('dates') or [None])
        np.save(npy, arr.reshape(n, -1, *arr.shape[-2:]) if desc.get('dates')
                else arr)
        desc.update(path=osp.basename(npy), format='npy')
    lab = osp.join(root, d['label_maps']['gt_seg_map']['path'])
    np.save(osp.join(root, 'lab13.npy'), _read(lab)[0])
    d['label_maps'] = dict(gt_seg_map=dict(path='lab13.npy', format='npy'))
    d['geo'] = dict(lon=151.2, lat=95.0)
    expect[13] = ['geo.lat', '95']
    json.dump(ann, open(ann_path, 'w'))

    out = tmp_path / 'report.json'
    res = _run(python_exe, repo_root, cli_env, '--splits', 'train', '--cfg-options',
               f'data_root={root}/', '--out', str(out))
    assert res.returncode == 1, res.stderr
    report = json.load(open(out))['report']['train']
    for i, fragments in expect.items():
        entry = report.get(str(i))
        assert entry is not None, (i, fragments, res.stdout)
        assert entry['sample'] == samples[i]['sample_id']
        text = ' '.join(entry['problems'])
        for frag in fragments:
            assert frag in text, (i, frag, text)
    clean = set(report) - {str(i) for i in expect}
    assert not clean, {i: report[i] for i in clean}  # nothing else is flagged
