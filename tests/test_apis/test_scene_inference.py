"""Scene inference: tiles, blending, geo-referenced COGs, nodata, resume, errors."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from eofm.apis.scene_inference import (SceneInferenceError, SceneInferencer,
                                       blend_weights, core_bounds, window_starts)
from eofm.datasets.geo_io import write_geotiff

ORIGIN = (500000.0, 5000000.0)


def _write_config(path, num_classes=3, strides=(1, 1)):
    text = f'''
default_scope = 'mmseg'
custom_imports = dict(imports=['eofm'], allow_failed_imports=False)
pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=dict(hr=dict(scale='uint8')),
         reference='hr', label_maps=dict(gt_seg_map=dict(like='hr'))),
    dict(type='eofm.AlignedCenterCrop', size=64, reference='hr'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr']),
]
test_dataloader = dict(batch_size=2, dataset=dict(
    type='eofm.MultiModalDataset', ann_file='', pipeline=pipeline,
    metainfo=dict(classes=('water', 'field', 'town'),
                  palette=[(0, 0, 255), (0, 255, 0), (255, 0, 0)])))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', task='seg',
                           tensor_input='hr',
                           normalize=dict(hr=dict(mean=[0.5] * 4, std=[0.25] * 4))),
    backbone=dict(type='eofm.SimpleConvNet', in_channels=4, channels=(8, 8),
                  strides={tuple(strides)}),
    decode_head=dict(type='FCNHead', in_channels=8, channels=8, num_convs=1,
                     concat_input=False, num_classes={num_classes},
                     norm_cfg=dict(type='BN'), align_corners=False),
    test_cfg=dict(mode='whole'))
'''
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def _checkpoint(config, path, seed=0):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    import mmseg.models  # noqa: F401
    from eofm.registry import MODELS
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(Config.fromfile(config).model)
    with torch.no_grad():  # non-trivial BN statistics
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def _scene(tmp_path, h=150, w=130, nodata_block=True):
    rng = np.random.default_rng(0)
    hr = rng.integers(1, 255, (4, h, w)).astype(np.uint8)  # 0 is nodata
    hr[:, :, :10] = 0  # a strip without data
    if nodata_block:
        hr[:, 100:, 90:] = 0
    path = write_geotiff(tmp_path / 'hr.tif', hr, (ORIGIN[0], ORIGIN[1] + 2 * h), 2.0,
                         32632, nodata=0, band_names=['R', 'G', 'B', 'NIR'])
    return dict(reference='hr', modalities=dict(hr=dict(path=str(path))))


@pytest.fixture
def setup(tmp_path):
    config = _write_config(tmp_path / 'cfg.py')
    ckpt = _checkpoint(config, tmp_path / 'model.pth')
    return config, ckpt, _scene(tmp_path)


def test_windows_cores_and_weights():
    assert window_starts(100, 40, 10) == [0, 30, 60]
    assert window_starts(101, 40, 10) == [0, 30, 60, 61]
    assert window_starts(30, 40, 10) == [0]
    starts = window_starts(101, 40, 10)
    b = core_bounds(starts, 40, 101)
    assert b[0] == 0 and b[-1] == 101 and all(x < y for x, y in zip(b, b[1:]))
    # every core pixel is at least half the overlap away from its window's edges
    for k, s in enumerate(starts):
        assert b[k] - s >= (5 if k else 0) and s + 40 - b[k + 1] >= (5 if
                                                                    k < 3 else 0)
    w = blend_weights(8, 6, 'cosine', margins=(2, 0, 0, 1))
    assert (w[:2] == 0).all() and (w[:, -1] == 0).all() and (w[2:, :-1] > 0).all()
    np.testing.assert_allclose(w[2:, :-1], w[2:, :-1][::-1, ::-1], rtol=1e-6)


@pytest.mark.parametrize('blend', ['cosine', 'none'])
def test_block_rings_and_interiors_partition_each_footprint(setup, blend):
    """A block's rings (saved as floats) and interior (saved as output layers) tile
    its windows' footprint exactly; no other block reaches an interior; the rings
    are the lesser part (what keeps the work folder small); without blending the
    interior is the whole region."""
    import types
    config, ckpt, _ = setup
    inf = SceneInferencer(config, ckpt, tile=40, overlap=10, block=4, blend=blend,
                          progress=False)
    h, w = 150, 330
    plan = inf._plan(types.SimpleNamespace(width=w, height=h))
    assert len(plan['blocks']) > 4
    ring_px = interior_px = 0
    for b, blk in enumerate(plan['blocks']):
        cover = np.zeros((h, w), int)
        boxes = blk['rings'] + [blk['interior']]
        for y0, y1, x0, x1 in boxes:
            cover[y0:y1, x0:x1] += 1
        ey0, ey1, ex0, ex1 = blk['extent']
        assert (cover[ey0:ey1, ex0:ex1] == 1).all() and cover.sum() == (
            ey1 - ey0) * (ex1 - ex0)
        iy0, iy1, ix0, ix1 = blk['interior']
        ry0, ry1, rx0, rx1 = blk['region']
        assert ry0 <= iy0 <= iy1 <= ry1 and rx0 <= ix0 <= ix1 <= rx1
        for k, other in enumerate(plan['blocks']):
            if k != b and iy0 < iy1 and ix0 < ix1:
                oy0, oy1, ox0, ox1 = other['extent']
                assert oy1 <= iy0 or oy0 >= iy1 or ox1 <= ix0 or ox0 >= ix1
        ring_px += sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in blk['rings'])
        interior_px += (iy1 - iy0) * (ix1 - ix0)
        if blend == 'none':
            assert blk['interior'] == blk['region'] and blk['rings'] == []
    assert ring_px < interior_px


@pytest.mark.parametrize('blend', ['cosine', 'none'])
def test_tiled_equals_whole_image_and_files_are_geo_referenced(setup, tmp_path, blend):
    """A translation-equivariant model (stride 1, receptive field 9 px): tiles with
    an overlap of 10 px give the whole-image probabilities to 1e-5 away from the
    scene edges; the COGs are valid and on the reference grid."""
    from osgeo import gdal
    from osgeo_utils.samples import validate_cloud_optimized_geotiff as vcog
    config, ckpt, scene = setup
    whole = SceneInferencer(config, ckpt, outputs=('probs', ), tile=256, overlap=0,
                            progress=False, precision='fp32')
    whole(scene, str(tmp_path / 'whole'))
    tiled = SceneInferencer(config, ckpt, outputs=('class', 'probs', 'confidence'),
                            tile=40, overlap=10, blend=blend, batch_size=3, block=2,
                            progress=False, precision='fp32')
    manifest = tiled(scene, str(tmp_path / 'tiled'))
    a = gdal.Open(str(tmp_path / 'whole' / 'probs.tif')).ReadAsArray().astype(float)
    b = gdal.Open(str(tmp_path / 'tiled' / 'probs.tif')).ReadAsArray().astype(float)
    inner = (slice(None), slice(5, -5), slice(15, -5))
    # uint8-scaled probabilities: equal bytes where the floats agree to 1e-5
    assert np.abs(a[inner] - b[inner]).max() <= 1
    assert (a[inner] == b[inner]).mean() > 0.999
    ref = gdal.Open(scene['modalities']['hr']['path'])
    for name in ('class', 'probs', 'confidence'):
        path = str(tmp_path / 'tiled' / f'{name}.tif')
        warnings, errors, _ = vcog.validate(path, full_check=True)
        assert errors == [], (name, errors)
        ds = gdal.Open(path)
        assert ds.GetGeoTransform() == ref.GetGeoTransform()
        assert ds.GetProjection() == ref.GetProjection()
        assert (ds.RasterXSize, ds.RasterYSize) == (130, 150)
        assert ds.GetRasterBand(1).GetNoDataValue() == 255
        assert ds.GetRasterBand(1).GetOverviewCount() >= 0
    cls = gdal.Open(str(tmp_path / 'tiled' / 'class.tif'))
    band = cls.GetRasterBand(1)
    assert [band.GetMetadataItem(f'CLASS_{i}') for i in range(3)] == [
        'water', 'field', 'town']
    assert band.GetColorTable().GetColorEntry(2)[:3] == (255, 0, 0)
    arr = band.ReadAsArray()
    assert (arr[:, :10] == 255).all() and (arr[100:, 90:] == 255).all()  # nodata
    assert set(np.unique(arr[20:90, 20:80])) <= {0, 1, 2}
    # the class map is the argmax of the probabilities
    probs = gdal.Open(str(tmp_path / 'tiled' / 'probs.tif')).ReadAsArray()
    valid = arr != 255
    assert (probs.argmax(0)[valid] == arr[valid]).mean() > 0.99
    assert manifest['files']['class']['path'] == 'class.tif'
    assert json.load(open(tmp_path / 'tiled' / 'manifest.json'))['classes'] == [
        'water', 'field', 'town']


def test_windows_without_data_are_skipped(setup, tmp_path):
    config, ckpt, scene = setup
    inf = SceneInferencer(config, ckpt, tile=40, overlap=10, progress=False)
    inf(scene, str(tmp_path / 'out'))
    summary = json.load(open(tmp_path / 'out' / '.work' / 'summary.json'))
    assert summary['skipped_nodata'] >= 1  # windows inside the nodata corner
    # every window runs once (in its block), or is skipped
    assert summary['windows'] + summary['skipped_nodata'] == 5 * 4
    assert summary['windows_this_run'] == summary['windows']


def test_repeated_and_resumed_runs_are_byte_identical(setup, tmp_path):
    config, ckpt, scene = setup
    kw = dict(outputs=('class', 'probs'), tile=40, overlap=10, block=1,
              progress=False)
    SceneInferencer(config, ckpt, **kw)(scene, str(tmp_path / 'a'))
    SceneInferencer(config, ckpt, **kw)(scene, str(tmp_path / 'b'))
    for name in ('class.tif', 'probs.tif'):
        assert open(tmp_path / 'a' / name, 'rb').read() == open(
            tmp_path / 'b' / name, 'rb').read()
    # an interrupted run: only some blocks done, the files not written yet
    out = tmp_path / 'c'
    inf = SceneInferencer(config, ckpt, **kw)
    calls = []
    original = inf._run_block

    def dies_after_three(b, *args):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(b)
        return original(b, *args)

    inf._run_block = dies_after_three
    with pytest.raises(KeyboardInterrupt):
        inf(scene, str(out))
    journal = json.load(open(out / '.work' / 'journal.json'))
    assert journal['done'] == [0, 1, 2] and not (out / 'class.tif').exists()
    with pytest.raises(SceneInferenceError, match='exists and is not empty'):
        SceneInferencer(config, ckpt, **kw)(scene, str(out))
    resumed = SceneInferencer(config, ckpt, **kw)
    runs = []
    original2 = resumed._run_block
    resumed._run_block = lambda b, *a: (runs.append(b), original2(b, *a))[1]
    resumed(scene, str(out), resume=True)
    assert 0 not in runs and 3 in runs
    for name in ('class.tif', 'probs.tif'):
        assert open(tmp_path / 'a' / name, 'rb').read() == open(out / name,
                                                                'rb').read()
    # a finished run keeps no block arrays (the scene's blended floats), and a
    # resume of it runs nothing and gives its manifest
    work = os.listdir(out / '.work')
    assert not [f for f in work if f.endswith(('.npy', '.npz'))]
    assert json.load(open(out / '.work' / 'journal.json'))['assembled'] is True
    again = SceneInferencer(config, ckpt, **kw)
    again._run_block = None  # would fail if called
    assert again(scene, str(out), resume=True) == json.load(open(out / 'manifest.json'))
    # a resume with other settings is refused
    with pytest.raises(SceneInferenceError, match='another scene, config'):
        SceneInferencer(config, ckpt, **dict(kw, overlap=12))(scene, str(out),
                                                              resume=True)


def test_embeddings_export_gives_the_in_memory_probe(setup, tmp_path):
    """Embeddings read back from the COG fit the same linear probe as the features
    computed in memory for the same windows."""
    from osgeo import gdal
    config, ckpt, scene = setup
    inf = SceneInferencer(config, ckpt, outputs=('embeddings', ), tile=256,
                          overlap=0, progress=False)
    manifest = inf(scene, str(tmp_path / 'emb'))
    assert manifest['files']['embeddings']['bands'] == 8
    emb = gdal.Open(str(tmp_path / 'emb' / 'embeddings.tif')).ReadAsArray()
    assert emb.shape == (8, 150, 130) and np.isnan(emb[:, :, :10]).all()
    from PIL import Image
    preview = np.asarray(Image.open(tmp_path / 'emb' / 'embeddings_preview.png'))
    assert preview.shape == (150, 130, 3)
    assert (preview[:, :10] == 0).all()  # nodata is black, the rest is coloured
    assert (preview[:, 10:].max(-1) > 0).mean() > 0.85  # less the nodata corner
    assert len(np.unique(preview[:, 10:].reshape(-1, 3), axis=0)) > 100
    sample = inf.runner.sample(scene['modalities'], (0, 0, 130, 150), 'all')
    mem = inf.runner.run([sample], (150, 130))[0]
    sl = (slice(None), slice(20, 90), slice(20, 80))
    x_file = emb[sl].reshape(8, -1).T.astype(np.float64)
    x_mem = mem[sl].reshape(8, -1).T.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(x_file, x_mem, rtol=1e-3, atol=1e-3)
    # a label to probe: a class of the sample's own structure (top 30 % of a mix)
    z = x_mem @ np.linspace(-1, 1, 8)
    y = (z > np.quantile(z, 0.7)).astype(float) * 2 - 1

    def probe(x):  # least-squares linear classifier, trained on even pixels
        xb = np.concatenate([x, np.ones((len(x), 1))], 1)
        w = np.linalg.lstsq(xb[::2], y[::2], rcond=None)[0]
        return float((np.sign(xb[1::2] @ w) == y[1::2]).mean())

    assert probe(x_file) == probe(x_mem) > 0.8


def test_another_crs_is_warped_and_bad_input_is_named(setup, tmp_path):
    from osgeo import gdal, osr
    config, ckpt, scene = setup
    # the same HR raster in the neighbouring UTM zone, as a second modality
    src = scene['modalities']['hr']['path']
    other = str(tmp_path / 'hr_32631.tif')
    gdal.Warp(other, src, dstSRS='EPSG:32631', xRes=2.0, yRes=2.0)
    warped = dict(scene, modalities=dict(scene['modalities'], hr2=dict(path=other)))
    inf = SceneInferencer(config, ckpt, tile=64, overlap=8, progress=False)
    inf(warped, str(tmp_path / 'w'))
    assert any(p.endswith('.vrt') for p in __import__('os').listdir(tmp_path / 'w' /
                                                                     '.work'))
    # errors before any window runs, naming what is wrong
    far = str(tmp_path / 'far.tif')
    write_geotiff(far, np.ones((1, 10, 10), np.uint8), (600000.0, 5000000.0), 2.0,
                  32632)
    bad = dict(scene, modalities=dict(scene['modalities'], far=dict(path=far)))
    with pytest.raises(SceneInferenceError, match="modality 'far'.*far.tif does not "
                       'cover the area'):
        inf(bad, str(tmp_path / 'x1'))
    with pytest.raises(SceneInferenceError, match='aoi .* does not overlap'):
        inf(dict(scene, aoi=(0, 0, 10, 10)), str(tmp_path / 'x2'))
    series = dict(reference='hr', modalities=dict(
        hr=scene['modalities']['hr'],
        s2=dict(paths=[src, src], dates=['2021-01-05', '2021-02-05'])),
        dates=dict(start='2022-01-01', end='2022-12-31'))
    with pytest.raises(SceneInferenceError, match="'s2' has no date between"):
        inf(series, str(tmp_path / 'x3'))
    other_cfg = _write_config(tmp_path / 'cfg5.py', num_classes=5)
    with pytest.raises(SceneInferenceError, match='does not fit the model'):
        SceneInferencer(other_cfg, ckpt, progress=False)
    with pytest.raises(SceneInferenceError, match='overlap < tile'):
        SceneInferencer(config, ckpt, tile=32, overlap=32)
    # an area of interest: outputs on the reference grid inside it
    x0 = ORIGIN[0] + 20
    m = inf(dict(scene, aoi=(x0, ORIGIN[1] + 40, x0 + 100, ORIGIN[1] + 140)),
            str(tmp_path / 'aoi'))
    assert (m['width'], m['height']) == (50, 50)
    assert m['geotransform'][0] == x0 and m['geotransform'][3] == ORIGIN[1] + 140


@pytest.mark.slow
def test_cli_and_two_processes_give_the_same_files(setup, tmp_path, repo_root,
                                                     cli_env, free_port):
    config, ckpt, scene = setup
    scene_file = tmp_path / 'scene.json'
    scene_file.write_text(json.dumps(scene))
    common = [config, ckpt, str(scene_file), '--tile', '40', '--overlap', '10',
              '--outputs', 'class', 'probs', '--threads', '1']
    one = subprocess.run([sys.executable, 'tools/infer_scene.py', *common,
                          '--out-dir', str(tmp_path / 'one')], cwd=repo_root,
                         env=cli_env, capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr
    assert 'windows run' in one.stdout
    two = subprocess.run(['bash', 'tools/dist_infer_scene.sh', config, ckpt,
                          str(scene_file), '2', '--tile', '40', '--overlap', '10',
                          '--outputs', 'class', 'probs', '--threads', '1',
                          '--out-dir', str(tmp_path / 'two')], cwd=repo_root,
                         env=dict(cli_env, PORT=str(free_port)), capture_output=True,
                         text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    for name in ('class.tif', 'probs.tif'):
        assert open(tmp_path / 'one' / name, 'rb').read() == open(
            tmp_path / 'two' / name, 'rb').read()
    again = subprocess.run([sys.executable, 'tools/infer_scene.py', *common,
                            '--out-dir', str(tmp_path / 'one')], cwd=repo_root,
                           env=cli_env, capture_output=True, text=True, timeout=600)
    assert again.returncode != 0 and '--resume' in again.stderr


def test_embeddings_when_the_first_block_has_no_data(setup, tmp_path):
    """A block without any valid pixel holds no embedding width: the files take
    it from a block that ran, and the empty block is nodata."""
    from osgeo import gdal
    config, ckpt, scene = setup
    src = gdal.Open(scene['modalities']['hr']['path'])
    hr = src.ReadAsArray()
    hr[:, :, :60] = 0
    path = write_geotiff(tmp_path / 'hr_west_empty.tif', hr, (ORIGIN[0], ORIGIN[1] +
                                                              300), 2.0, 32632,
                         nodata=0, band_names=['R', 'G', 'B', 'NIR'])
    empty_west = dict(reference='hr', modalities=dict(hr=dict(path=path)))
    inf = SceneInferencer(config, ckpt, outputs=('embeddings', ), tile=40, overlap=10,
                          block=1, progress=False)
    inf(empty_west, str(tmp_path / 'e'))
    emb = gdal.Open(str(tmp_path / 'e' / 'embeddings.tif')).ReadAsArray()
    assert emb.shape[0] == 8
    assert np.isnan(emb[:, :, :60]).all() and np.isfinite(emb[:, 20:90, 70:]).all()


@pytest.mark.slow
def test_kill_9_and_resume_give_the_files_of_an_uninterrupted_run(tmp_path, repo_root,
                                                                  cli_env):
    """A CLI run killed with SIGKILL part-way and restarted with ``--resume`` skips
    the blocks its journal holds and ends with the files of a run never stopped."""
    import signal
    import time
    config = _write_config(tmp_path / 'cfg.py')
    ckpt = _checkpoint(config, tmp_path / 'model.pth')
    scene_file = tmp_path / 'scene.json'
    scene = _scene(tmp_path, h=400, w=400, nodata_block=False)
    scene_file.write_text(json.dumps(scene))
    common = [sys.executable, 'tools/infer_scene.py', config, ckpt, str(scene_file),
              '--tile', '40', '--overlap', '10', '--block', '1', '--outputs', 'class',
              'probs', '--threads', '1']

    def run(out, *extra):
        r = subprocess.run([*common, '--out-dir', str(out), *extra], cwd=repo_root,
                           env=cli_env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
        return r

    run(tmp_path / 'whole')
    out = tmp_path / 'killed'
    journal = out / '.work' / 'journal.json'
    proc = subprocess.Popen([*common, '--out-dir', str(out)], cwd=repo_root,
                            env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    done = []
    while proc.poll() is None:
        try:
            done = json.loads(journal.read_text())['done']
        except (OSError, ValueError, KeyError):
            done = []
        if len(done) >= 5:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, 'the run ended before it was killed'
    total = 13 * 13  # blocks of one window: 400 px in windows of 40 at a stride of 30
    assert 5 <= len(done) < total and not (out / 'class.tif').exists()
    resumed = run(out, '--resume')
    summary = json.loads((out / '.work' / 'summary.json').read_text())
    assert summary['reused'] >= len(done)  # the journal's blocks did not run again
    assert summary['windows_this_run'] < summary['windows']
    assert 'blocks from an earlier run' in resumed.stdout
    for name in ('class.tif', 'probs.tif'):
        assert (out / name).read_bytes() == (tmp_path / 'whole' / name).read_bytes()


def test_bf16_outputs_agree_with_fp32(setup, tmp_path):
    """bf16 autocast (what 'auto' picks on a CPU with bf16 matrix units) gives the
    fp32 probabilities within 0.02 and nearly the same class map."""
    from osgeo import gdal
    config, ckpt, scene = setup
    kw = dict(outputs=('class', 'probs'), tile=64, overlap=16, progress=False)
    out = {}
    for precision in ('fp32', 'bf16'):
        m = SceneInferencer(config, ckpt, precision=precision, **kw)(
            scene, str(tmp_path / precision))
        assert m['settings']['precision'] == precision
        out[precision] = [gdal.Open(str(tmp_path / precision / f)).ReadAsArray()
                          for f in ('class.tif', 'probs.tif')]
    (c32, p32), (c16, p16) = out['fp32'], out['bf16']
    valid = p32[0] != 255
    assert valid.mean() > 0.5 and (p16[0] != 255).sum() == valid.sum()
    diff = np.abs(p32.astype(int) - p16.astype(int))[:, valid]
    assert diff.max() <= 0.02 * 254
    assert (c32 == c16)[valid].mean() > 0.97
    with pytest.raises(SceneInferenceError, match='precision.*for GPUs'):
        SceneInferencer(config, ckpt, precision='fp16', **kw)


def _window_batch(inf, scene, windows):
    from eofm.datasets import multimodal_collate
    samples = [inf.runner.sample(scene['modalities'], w, 'all') for w in windows]
    return inf.runner.task.preprocess(multimodal_collate(samples))


def test_unpadded_windows_skip_the_per_window_postprocessing(setup, tmp_path):
    """Windows without padding or flips take the logits from ``inference``: the
    probabilities equal those of mmseg's ``predict``, and ``predict`` is not called;
    a padded window goes through ``predict``."""
    config, ckpt, scene = setup
    inf = SceneInferencer(config, ckpt, tile=40, overlap=10, progress=False,
                          precision='fp32')
    task, model = inf.runner.task, inf.runner.model
    data = _window_batch(inf, scene, [(20, 20, 40, 40), (60, 30, 40, 40)])
    with torch.no_grad():
        preds = model.predict(data['inputs'], data['data_samples'])
        ref = torch.stack([p.seg_logits.data for p in preds]).softmax(1)
        calls = []
        original = model.predict
        model.predict = lambda *a, **k: calls.append(1) or original(*a, **k)
        got = task.forward(data['inputs'], data['data_samples'], (40, 40))
        assert calls == []
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)
        for s in data['data_samples']:  # a padded window: predict crops it
            s.set_metainfo(dict(img_padding_size=[0, 1, 0, 1]))
        task.forward(data['inputs'], data['data_samples'], (40, 40))
        assert calls == [1]


def test_binary_head_with_one_output_channel(tmp_path):
    """A one-channel (sigmoid) binary head: probabilities of both classes, and the
    class map follows the head's threshold, as mmseg's ``predict`` decides."""
    from osgeo import gdal
    config = tmp_path / 'bin.py'
    text = open(_write_config(config, num_classes=2)).read().replace(
        "num_classes=2,", "num_classes=2, out_channels=1, threshold=0.3,"
        " loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True),")
    config.write_text(text)
    ckpt = _checkpoint(str(config), tmp_path / 'bin.pth')
    scene = _scene(tmp_path)
    # shift the head's bias so that the median pixel sits at the threshold
    inf = SceneInferencer(str(config), ckpt, tile=256, overlap=0, progress=False,
                          precision='fp32')
    data = _window_batch(inf, scene, [(20, 20, 60, 60)])
    with torch.no_grad():
        median = inf.runner.model.inference(
            data['inputs'], [s.metainfo for s in data['data_samples']]).median()
    state = torch.load(ckpt, weights_only=True)
    state['state_dict']['decode_head.conv_seg.bias'] += float(np.log(0.3 / 0.7)) - median
    torch.save(state, ckpt)
    inf = SceneInferencer(str(config), ckpt, outputs=('class', 'probs'), tile=256,
                          overlap=0, progress=False, precision='fp32')
    assert inf.runner.task.threshold == 0.3
    inf(scene, str(tmp_path / 'out'))
    cls = gdal.Open(str(tmp_path / 'out' / 'class.tif')).ReadAsArray()
    probs = gdal.Open(str(tmp_path / 'out' / 'probs.tif')).ReadAsArray().astype(int)
    valid = cls != 255
    assert probs.shape[0] == 2 and valid.mean() > 0.5
    assert (np.abs(probs[0] + probs[1] - 254)[valid] <= 1).all()  # p and 1 - p
    # mmseg's own decision for the window covering the scene
    data = _window_batch(inf, scene, [(0, 0, 130, 150)])
    with torch.no_grad():
        pred = inf.runner.model.predict(data['inputs'], data['data_samples'])[0]
    own = pred.pred_sem_seg.data[0].numpy()
    assert 0.05 < own[valid].mean() < 0.95  # both classes occur
    assert (own[valid] == cls[valid]).mean() > 0.999
