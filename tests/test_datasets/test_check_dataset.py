"""tools/misc/check_dataset.py reports every problem of a dataset at once."""
import json
import os.path as osp
import subprocess

import numpy as np

from fake_geo import write_geotiff
from tools.misc.make_sample_dataset import generate


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
    assert "cannot parse date '2021-13-45'" in problems_b


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
