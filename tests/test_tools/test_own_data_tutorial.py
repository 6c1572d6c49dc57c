"""docs/own_data.md, run as its reader would: folders of real-format rasters ->
annotation files -> check_dataset -> dataset_stats -> pretrained weights (the demo's
pretraining, 2 iterations) -> fine-tuning SkySense on S2 + S1 + HR with bands the
weights lack -> tools/test.py -> scene inference over a whole tile -> the map."""
import glob
import json
import os.path as osp
import subprocess

import numpy as np

from tests.helpers.own_folders import LABELS, MODALITIES, write_folders

CONFIG = 'configs/skysense/skysense-tiny_fcn_1xb4-40it_own-data-s2s1hr-320m.py'
PRETRAIN = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'
ANYSAT = 'configs/anysat/anysat_sublinear_1xb4-40it_own-data-s2s1hr-p20m.py'
ANYSAT_PRETRAIN = 'configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py'


def _run(python_exe, repo_root, cli_env, *args):
    proc = subprocess.run([python_exe, *args], cwd=repo_root, env=cli_env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    return proc.stdout + proc.stderr


def test_the_own_data_tutorial_end_to_end(tmp_path, python_exe, repo_root, cli_env):
    from osgeo import gdal
    folders, data = tmp_path / 'folders', str(tmp_path / 'own')
    write_folders(folders, realistic=True)
    # 1. folders -> annotations (S1 is in another UTM zone: warped by relative VRTs)
    cmd = ['tools/dataset_converters/folder_to_annotations.py', str(folders),
           '--out-dir', data, '--tile-size', '32', '--block-size', '1', '--seed', '3',
           '--fractions', '0.5', '0.25', '0.25']
    for name, spec in MODALITIES.items():
        cmd += ['--modality', name, spec['dir'], spec['pattern'], '--bands', name,
                *spec['bands']]
    cmd += ['--label', 'gt_seg_map', LABELS['gt_seg_map']['dir'],
            LABELS['gt_seg_map']['pattern'], '--classes', *[f'class {i}' for i in range(4)]]
    out = _run(python_exe, repo_root, cli_env, *cmd)
    counts = {s: len(json.load(open(osp.join(data, f'{s}.json')))['data_list'])
              for s in ('train', 'val', 'test')}
    assert counts == dict(train=5, val=1, test=2), out
    # 2. every sample checked, clean
    out = _run(python_exe, repo_root, cli_env, 'tools/misc/check_dataset.py', CONFIG,
               '--cfg-options', f'data_root={data}/')
    assert '8 samples checked, 0 with problems' in out
    # 3. the data's statistics
    stats = str(tmp_path / 'stats.json')
    _run(python_exe, repo_root, cli_env, 'tools/analysis_tools/dataset_stats.py', CONFIG,
         '--data-root', f'{data}/', '--out', stats)
    assert len(json.load(open(stats))['normalize']['s2']['mean']) == 4
    # 4. pretrained weights: the demo's pretraining on the sample data, 2 iterations
    sample = str(tmp_path / 'sample')
    _run(python_exe, repo_root, cli_env, 'tools/misc/make_sample_dataset.py', sample)
    pre_dir = str(tmp_path / 'demo')
    _run(python_exe, repo_root, cli_env, 'tools/train.py', PRETRAIN, '--work-dir',
         pre_dir, '--cfg-options', f'data_root={sample}/', 'train_cfg.max_iters=2',
         'default_hooks.checkpoint.interval=2', 'custom_hooks=[]')
    pretrained = osp.join(pre_dir, 'iter_2.pth')
    # 5. fine-tuning: 4 of the 10 S2 bands, RGB of the R, G, B, NIR image
    ft_dir = str(tmp_path / 'ft')
    log = _run(python_exe, repo_root, cli_env, 'tools/train.py', CONFIG, '--work-dir',
               ft_dir, '--cfg-options', f'data_root={data}/',
               f'model.backbone.init_cfg.checkpoint={pretrained}')
    assert "SkySense.s2 (" in log and "missing ['B5', 'B6', 'B7', 'B8A', 'B11', " \
        "'B12']: mean" in log
    assert "missing ['NIR']: mean" in log
    # the statistics the weights were trained with (4 of their 10 S2 bands)
    assert "normalisation of 's2': the config's statistics are those the weights" in log
    ckpt = osp.join(ft_dir, 'iter_40.pth')
    # 6. the test split
    log = _run(python_exe, repo_root, cli_env, 'tools/test.py', CONFIG, ckpt,
               '--work-dir', str(tmp_path / 'test'), '--cfg-options', f'data_root={data}/')
    assert 'mIoU' in log
    # 7. the whole tile (64 x 64 S2 px, twice the training samples) -> the map
    s2 = sorted(glob.glob(str(folders / 's2' / '*T32TQM*.tif')))
    s1 = sorted(glob.glob(str(folders / 's1' / '*.tif')))
    scene = dict(reference='s2', modalities=dict(
        s2=dict(paths=s2, dates=[osp.basename(p).split('_')[2][:8] for p in s2],
                bands=MODALITIES['s2']['bands']),
        s1=dict(paths=s1, dates=[osp.basename(p).split('_')[4][:8] for p in s1],
                bands=['VV', 'VH']),
        hr=dict(band_paths=[str(folders / 'hr' / f'T32TQM_{b}.tif') for b in 'RGB'],
                bands=['R', 'G', 'B'])))
    scene_file = tmp_path / 'scene.json'
    scene_file.write_text(json.dumps(scene))
    out_dir = str(tmp_path / 'map')
    _run(python_exe, repo_root, cli_env, 'tools/infer_scene.py', CONFIG, ckpt,
         str(scene_file), '--out-dir', out_dir, '--tile', '32', '--overlap', '8')
    manifest = json.load(open(osp.join(out_dir, 'manifest.json')))
    assert manifest['quicklook'] == 'class.png' and osp.isfile(osp.join(out_dir,
                                                                      'class.png'))
    ds = gdal.Open(osp.join(out_dir, 'class.tif'))
    ref = gdal.Open(s2[0])
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    assert (ds.RasterXSize, ds.RasterYSize) == (64, 64)
    cls = ds.ReadAsArray()
    assert set(np.unique(cls)) <= {0, 1, 2, 3}
    # 8. AnySat on the same data, from its JEPA pretraining on the sample data
    apre = str(tmp_path / 'anysat_demo')
    _run(python_exe, repo_root, cli_env, 'tools/train.py', ANYSAT_PRETRAIN, '--work-dir',
         apre, '--cfg-options', f'data_root={sample}/', 'train_cfg.max_iters=2',
         'default_hooks.checkpoint.interval=2')
    aft = str(tmp_path / 'anysat_ft')
    log = _run(python_exe, repo_root, cli_env, 'tools/train.py', ANYSAT, '--work-dir',
               aft, '--cfg-options', f'data_root={data}/',
               f"model.backbone.init_cfg.checkpoint={osp.join(apre, 'iter_2.pth')}")
    assert "AnySat.s2 (" in log and "missing ['NIR']: mean" in log
    log = _run(python_exe, repo_root, cli_env, 'tools/test.py', ANYSAT,
               osp.join(aft, 'iter_40.pth'), '--work-dir', str(tmp_path / 'anysat_test'),
               '--cfg-options', f'data_root={data}/')
    assert 'mIoU' in log
