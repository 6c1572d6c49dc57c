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
