"""Scene inference with detectors: boxes of objects cut by window borders reported
once, as map-coordinate polygons of a GeoPackage; eofm's Faster R-CNN and Oriented
R-CNN configs end to end; repeated and resumed runs."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmdet.models.detectors import BaseDetector
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData
from osgeo import ogr, osr

from eofm.apis.scene_inference import (SceneInferenceError, SceneInferencer,
                                       window_starts)
from eofm.apis.scene_tasks import box_polygons, suppress_boxes
from eofm.datasets.geo_io import write_geotiff
from eofm.registry import MODELS
from tests.helpers.config_helpers import ROOT, TINY_CHANNELS

ORIGIN = (500000.0, 5000000.0)  # north-west corner, EPSG:32632
PIXEL = 2.0
H, W = 112, 136
TILE, OVERLAP = 40, 16
BACKGROUND, NODATA_SIDE = 40, 40


def _components(bright):
    """[(row0, row1, col0, col1, value)] of the bright rectangles of one window."""
    from scipy import ndimage
    labels, n = ndimage.label(bright > 0)
    out = []
    for k, sl in enumerate(ndimage.find_objects(labels)):
        ys, xs = sl
        value = float(bright[ys, xs][labels[ys, xs] == k + 1].max())
        out.append((ys.start, ys.stop, xs.start, xs.stop, value))
    return out


def _rectangles(window, rotated):
    """Boxes of the bright rectangles visible in a (C, h, w) window, clipped to it
    as a detector reports a cut object: band 0 > 150 is an object (class 0 up to
    200, class 1 above), band 1 its score (value / 255)."""
    img = window.detach().cpu().numpy()
    bright = np.where(img[0] > 150, img[1], 0)
    boxes, scores, labels = [], [], []
    for r0, r1, c0, c1, value in _components(bright):
        if rotated:  # the same rectangle as a box turned by 90 degrees
            boxes.append([(c0 + c1) / 2, (r0 + r1) / 2, r1 - r0, c1 - c0, math.pi / 2])
        else:
            boxes.append([c0, r0, c1, r1])
        scores.append(value / 255)
        labels.append(int(img[0][r0, c0] > 200))
    dim = 5 if rotated else 4
    return InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).view(-1, dim),
                        scores=torch.tensor(scores, dtype=torch.float32),
                        labels=torch.tensor(labels, dtype=torch.long))


@MODELS.register_module(force=True)
class FakeBoxDetector(BaseDetector):
    """An mmdet detector (chosen as such by its class): the boxes of the bright
    rectangles of each window."""
    rotated = False

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.calls = 0

    def predict(self, inputs, data_samples):
        self.calls += len(data_samples)
        return [DetDataSample(pred_instances=_rectangles(img, self.rotated))
                for img in inputs['hr']]

    def loss(self, inputs, data_samples):
        return {}

    def _forward(self, inputs, data_samples=None):
        return None

    def extract_feat(self, inputs):
        return inputs


@MODELS.register_module(force=True)
class FakeRotatedDetector(torch.nn.Module):
    """A plain module whose predict fills pred_instances with rotated boxes
    (outputs=['boxes'] says it is a detector)."""
    rotated = True
    predict = FakeBoxDetector.predict

    def __init__(self, data_preprocessor):
        super().__init__()
        self.data_preprocessor = MODELS.build(data_preprocessor)
        self.calls = 0


def _config(rotated=False):
    pipeline = [
        dict(type='eofm.LoadMultiModalTiles', modalities=dict(hr=dict()),
             reference='hr'),
        dict(type='eofm.PackMultiModalInputs', modalities=['hr']),
    ]
    return Config(dict(
        default_scope='eofm',
        test_dataloader=dict(dataset=dict(
            type='eofm.MultiModalDataset', ann_file='', pipeline=pipeline,
            metainfo=dict(classes=('car', 'ship')))),
        model=dict(type='FakeRotatedDetector' if rotated else 'FakeBoxDetector',
                   data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'))))


def _objects(rng):
    """Non-touching rectangles (row0, row1, col0, col1, class, score value) of at
    most 12 x 14 px, many of them across window borders (the windows' starts and
    ends), none in the nodata corner."""
    edges = sorted({s for s in window_starts(W, TILE, OVERLAP)} |
                   {s + TILE for s in window_starts(W, TILE, OVERLAP)})
    free = np.ones((H, W), bool)
    free[H - NODATA_SIDE:, W - NODATA_SIDE:] = False
    out = []
    for k in range(400):
        if len(out) == 14:
            break
        h, w = rng.integers(4, 13), rng.integers(4, 15)
        if k % 2:  # across a vertical window border
            c0 = int(rng.choice(edges[1:-1])) - int(rng.integers(1, w))
        else:
            c0 = int(rng.integers(0, W - w))
        r0 = int(rng.integers(0, H - h))
        if c0 < 0 or c0 + w > W or not free[max(r0 - 2, 0):r0 + h + 2,
                                              max(c0 - 2, 0):c0 + w + 2].all():
            continue
        free[r0:r0 + h, c0:c0 + w] = False
        out.append((r0, r0 + h, c0, c0 + w, len(out) % 2, 100 + 9 * len(out)))
    return out


def _scene(tmp_path, seed=0):
    rng = np.random.default_rng(seed)
    img = np.full((2, H, W), BACKGROUND, np.uint8)
    img[1] = rng.integers(1, 100, (H, W))
    objects = _objects(rng)
    for r0, r1, c0, c1, cls, value in objects:
        img[0, r0:r1, c0:c1] = 250 if cls else 180
        img[1, r0:r1, c0:c1] = value
    img[:, H - NODATA_SIDE:, W - NODATA_SIDE:] = 0  # nodata: whole windows skipped
    path = write_geotiff(tmp_path / 'hr.tif', img, ORIGIN, PIXEL, 32632, nodata=0)
    return dict(reference='hr', modalities=dict(hr=dict(path=str(path)))), objects


def _read_gpkg(path):
    """The layer's CRS and [(class, class_id, score, ring)] in file order."""
    ds = ogr.Open(str(path))
    assert ds.GetLayerCount() == 1
    lyr = ds.GetLayerByName('boxes')
    defn = lyr.GetLayerDefn()
    assert [defn.GetFieldDefn(k).GetName() for k in range(defn.GetFieldCount())] == [
        'class', 'class_id', 'score']
    assert lyr.GetGeomType() == ogr.wkbPolygon
    feats = []
    for f in lyr:
        ring = f.GetGeometryRef().GetGeometryRef(0)
        pts = [ring.GetPoint_2D(k) for k in range(ring.GetPointCount())]
        assert len(pts) == 5 and pts[0] == pts[-1]
        feats.append((f.GetField('class'), f.GetField('class_id'), f.GetField('score'),
                      pts[:4]))
    return lyr.GetSpatialRef().ExportToWkt(), feats


def _expected_corners(r0, r1, c0, c1):
    xs = (ORIGIN[0] + c0 * PIXEL, ORIGIN[0] + c1 * PIXEL)
    ys = (ORIGIN[1] - r0 * PIXEL, ORIGIN[1] - r1 * PIXEL)
    return sorted((x, y) for x in xs for y in ys)


@pytest.mark.parametrize('rotated', [False, True])
def test_objects_across_window_borders_are_reported_once(tmp_path, rotated):
    scene, objects = _scene(tmp_path)
    starts = window_starts(W, TILE, OVERLAP)
    cut = [o for o in objects if any(o[2] < e < o[3] for s in starts
                                     for e in (s, s + TILE))]
    assert len(cut) >= 5  # the test is about those
    # nms_iou=1.0 turns the NMS off: the cores alone report each object once
    inf = SceneInferencer(_config(rotated), tile=TILE, overlap=OVERLAP, block=2,
                          batch_size=3, progress=False, nms_iou=1.0,
                          outputs=['boxes'] if rotated else None)
    manifest = inf(scene, str(tmp_path / 'out'))
    assert manifest['task'] == 'detection' and manifest['quicklook'] is None
    entry = manifest['files']['boxes']
    assert entry['path'] == 'boxes.gpkg' and entry['count'] == len(objects)
    assert entry['geometry'] == 'Polygon'
    assert entry['box_type'] == ('rotated' if rotated else 'horizontal')
    crs, feats = _read_gpkg(tmp_path / 'out' / 'boxes.gpkg')
    ref = osr.SpatialReference()
    ref.ImportFromWkt(manifest['crs'])
    got = osr.SpatialReference()
    got.ImportFromWkt(crs)
    assert got.IsSame(ref) and got.GetAuthorityCode(None) == '32632'
    # each object once, with its whole rectangle (the window holding its centre
    # sees it whole: the overlap is larger than the objects)
    assert len(feats) == len(objects)
    by_score = {round(f[2] * 255): f for f in feats}
    for r0, r1, c0, c1, cls, value in objects:
        name, class_id, _, ring = by_score[value]
        assert (name, class_id) == (('ship', 1) if cls else ('car', 0))
        np.testing.assert_allclose(sorted(ring), _expected_corners(r0, r1, c0, c1),
                                   atol=1e-3)
    assert [f[2] for f in feats] == sorted((f[2] for f in feats), reverse=True)
    # windows run once each; the all-nodata ones are skipped
    summary = json.load(open(tmp_path / 'out' / '.work' / 'summary.json'))
    n_windows = len(window_starts(H, TILE, OVERLAP)) * len(starts)
    assert summary['skipped_nodata'] >= 1
    assert summary['windows'] == summary['windows_this_run'] == inf.runner.model.calls
    assert summary['windows'] + summary['skipped_nodata'] == n_windows


def test_smaller_overlap_needs_the_nms_and_options(tmp_path):
    """With an overlap smaller than the objects, a clipped copy can have its centre
    in its own window's core: reported twice, unless the NMS removes it."""
    scene, objects = _scene(tmp_path)
    counts = {}
    for iou in (1.0, 0.3):  # 1.0: no NMS (IoU is never above 1)
        m = SceneInferencer(_config(), tile=TILE, overlap=4, nms_iou=iou,
                            progress=False)(scene, str(tmp_path / f'small{iou}'))
        assert m['settings']['nms_iou'] == iou
        counts[iou] = m['files']['boxes']['count']
    assert counts[1.0] > len(objects) and counts[0.3] == len(objects)
    # a score threshold drops the lower scores (values 100 + 9 k)
    thr = (100 + 9 * 7) / 255 - 1e-6
    m = SceneInferencer(_config(), tile=TILE, overlap=OVERLAP, score_thr=thr,
                        progress=False)(scene, str(tmp_path / 'thr'))
    assert m['files']['boxes']['count'] == len([o for o in objects if o[5] >= 163])
    with pytest.raises(SceneInferenceError, match='nms_iou must be in'):
        SceneInferencer(_config(), nms_iou=0.0)
    with pytest.raises(SceneInferenceError, match='tta'):
        SceneInferencer(_config(), tta='flip')


def test_class_wise_nms_and_polygons():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [1, 0, 11, 10], [50, 50, 60, 60]],
                     float) + 1e5  # far from the origin: float32 would lose pixels
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([0, 0, 1, 0])
    b, s, lab = suppress_boxes(boxes, scores, labels, 0.5)
    assert s.tolist() == [0.9, 0.7, 0.6] and lab.tolist() == [0, 1, 0]
    rot = np.array([[5, 5, 10, 4, 0.0], [5, 5, 10, 4, 0.05],
                    [5, 5, 4, 10, math.pi / 2]])
    _, s, _ = suppress_boxes(rot, np.array([0.9, 0.8, 0.7]), np.zeros(3, int), 0.5)
    assert s.tolist() == [0.9]
    # a 90-degree box is the same rectangle with width and height swapped
    gt = (100.0, 2.0, 0.0, 200.0, 0.0, -2.0)
    a, c = box_polygons(rot[[0, 2]], gt)
    np.testing.assert_allclose(sorted(map(tuple, a)), sorted(map(tuple, c)), atol=1e-9)
    np.testing.assert_allclose(sorted(map(tuple, a)),
                               [(100, 186), (100, 194), (120, 186), (120, 194)])
    np.testing.assert_allclose(box_polygons(np.array([[1, 2, 3, 5.]]), gt)[0],
                               [(102, 196), (106, 196), (106, 190), (102, 190)])


def test_repeated_and_resumed_runs_give_the_same_features(tmp_path, monkeypatch):
    scene, _ = _scene(tmp_path)
    kw = dict(tile=TILE, overlap=OVERLAP, block=1, progress=False)
    SceneInferencer(_config(), **kw)(scene, str(tmp_path / 'a'))
    SceneInferencer(_config(), **kw)(scene, str(tmp_path / 'b'))
    a = _read_gpkg(tmp_path / 'a' / 'boxes.gpkg')
    assert a == _read_gpkg(tmp_path / 'b' / 'boxes.gpkg')
    assert open(tmp_path / 'a' / 'boxes.gpkg', 'rb').read() == open(
        tmp_path / 'b' / 'boxes.gpkg', 'rb').read()
    out = tmp_path / 'c'
    inf = SceneInferencer(_config(), **kw)
    done = []
    original = inf._run_block

    def dies_after_four(b, *args):
        if len(done) == 4:
            raise KeyboardInterrupt
        done.append(b)
        return original(b, *args)

    inf._run_block = dies_after_four
    with pytest.raises(KeyboardInterrupt):
        inf(scene, str(out))
    assert not (out / 'boxes.gpkg').exists()
    resumed = SceneInferencer(_config(), **kw)
    runs = []
    original2 = resumed._run_block
    resumed._run_block = lambda b, *x: (runs.append(b), original2(b, *x))[1]
    m = resumed(scene, str(out), resume=True)
    assert runs and 0 not in runs and m['files']['boxes']['count'] == len(a[1])
    assert _read_gpkg(out / 'boxes.gpkg') == a
    # two processes (ranks run alternate blocks, rank 0 writes; one after the
    # other here, without the barriers) give the same file
    import eofm.apis.scene_inference as si
    monkeypatch.setattr(si, '_barrier', lambda world_size: None)
    two = tmp_path / 'two'
    SceneInferencer(_config(), **kw)(scene, str(two), rank=1, world_size=2)
    SceneInferencer(_config(), **kw)(scene, str(two), rank=0, world_size=2,
                                     resume=True)
    assert _read_gpkg(two / 'boxes.gpkg') == a


def test_boxes_is_refused_for_other_models_and_options_for_segmentors(tmp_path):
    from tests.test_apis.test_scene_inference import _write_config
    seg = _write_config(tmp_path / 'seg.py')
    with pytest.raises(SceneInferenceError, match='nms_iou: options of detection'):
        SceneInferencer(seg, nms_iou=0.5)
    # a feature name belongs to an embeddings run, and to a model with named maps
    with pytest.raises(SceneInferenceError, match="names the map of an embeddings"):
        SceneInferencer(seg, feature='fused_mm')
    with pytest.raises(SceneInferenceError, match='EncoderDecoder has no named_feat'):
        SceneInferencer(seg, outputs=['embeddings'], feature='fused_mm')


def _shrink_detector(cfg):
    """The SkySense tiny backbone, 32-channel neck and heads, few proposals."""
    model = cfg.model
    model.backbone.update(arch='skysense-tiny', drop_path_rate=0.0)
    model.backbone.pop('init_cfg')
    model.neck.update(in_channels=TINY_CHANNELS, out_channels=32)
    model.rpn_head.in_channels = model.rpn_head.feat_channels = 32
    model.roi_head.bbox_roi_extractor.out_channels = 32
    model.roi_head.bbox_head.update(in_channels=32, fc_out_channels=64)
    model.test_cfg.rpn.update(nms_pre=100, max_per_img=50)
    model.test_cfg.rcnn.update(max_per_img=20, score_thr=0.0)
    return cfg


FASTER_RCNN = 'skysense-hr_faster-rcnn_fpn_8xb1-12e_dior-800x800.py'


def _dior_scene(tmp_path, config):
    """The shrunk config and an RGB GeoTIFF scene (the ``img`` modality that an
    image-file pipeline reads), 160 x 96 px at 0.5 m."""
    from eofm.apis.runner_setup import load_config
    cfg = _shrink_detector(load_config(f'{ROOT}/configs/skysense/{config}'))
    rng = np.random.default_rng(0)
    rgb = rng.integers(1, 255, (3, 96, 160)).astype(np.uint8)
    path = write_geotiff(tmp_path / 'rgb.tif', rgb, ORIGIN, 0.5, 32632, nodata=0)
    return cfg, dict(reference='img', modalities=dict(img=dict(path=str(path))))


def _check_dior_output(out_dir, m):
    crs, feats = _read_gpkg(out_dir / 'boxes.gpkg')
    ref = osr.SpatialReference()
    ref.ImportFromWkt(m['crs'])
    got = osr.SpatialReference()
    got.ImportFromWkt(crs)
    assert got.IsSame(ref)
    assert m['classes'][:2] == ['airplane', 'airport'] and len(m['classes']) == 20
    assert len(feats) == m['files']['boxes']['count']
    for name, class_id, score, ring in feats:
        assert m['classes'][class_id] == name and 0 <= score <= 1
        xs, ys = zip(*ring)
        # centres in the cores, around the scene (80 m x 48 m)
        assert ORIGIN[0] - 40 <= np.mean(xs) <= ORIGIN[0] + 80 + 40
        assert ORIGIN[1] - 48 - 40 <= np.mean(ys) <= ORIGIN[1] + 40
    return feats


@pytest.mark.parametrize('config, iou', [
    (FASTER_RCNN, 0.5),
    ('skysense-hr_oriented-rcnn-le90_fpn_2xb1-12e_dior-r-800x800.py', 0.1),
])
def test_skysense_dior_configs_write_a_geopackage(tmp_path, config, iou):
    """eofm's DIOR configs (image-file pipelines, mmdet / mmrotate detectors) with
    random weights: the counts may be anything, the file must be right."""
    cfg, scene = _dior_scene(tmp_path, config)
    torch.manual_seed(0)
    inf = SceneInferencer(cfg, tile=64, overlap=16, progress=False)
    m = inf(scene, str(tmp_path / 'out'))
    assert m['task'] == 'detection' and m['settings']['nms_iou'] == iou
    box_type = 'rotated' if 'oriented' in config else 'horizontal'
    assert m['files']['boxes']['box_type'] == box_type
    _check_dior_output(tmp_path / 'out', m)
    # no box above the threshold: an empty layer, still of the model's box type
    m = SceneInferencer(cfg, tile=64, overlap=16, score_thr=0.999,
                        progress=False)(scene, str(tmp_path / 'none'))
    assert m['files']['boxes']['count'] == 0
    assert m['files']['boxes']['box_type'] == box_type
    assert _check_dior_output(tmp_path / 'none', m) == []
    summary = json.load(open(tmp_path / 'out' / '.work' / 'summary.json'))
    assert summary['windows'] == summary['windows_this_run'] == len(
        window_starts(96, 64, 16)) * len(window_starts(160, 64, 16))
    with pytest.raises(SceneInferenceError, match="reference 'rgb' is not read"):
        inf(dict(reference='rgb', modalities=dict(rgb=scene['modalities']['img'])),
            str(tmp_path / 'bad'))


@pytest.mark.slow
def test_cli_writes_boxes_from_a_checkpoint(tmp_path, repo_root, cli_env):
    """tools/infer_scene.py --outputs boxes with a checkpoint and NMS options gives
    the features of the API."""
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmengine.registry import DefaultScope
    import mmdet.utils
    cfg, scene = _dior_scene(tmp_path, FASTER_RCNN)
    cfg.dump(str(tmp_path / 'cfg.py'))
    mmdet.utils.register_all_modules(False)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = ROOT_MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'det.pth')
    (tmp_path / 'scene.json').write_text(json.dumps(scene))
    opts = ['--tile', '64', '--overlap', '16', '--nms-iou', '0.4', '--score-thr',
            '0.01', '--threads', '1']
    run = subprocess.run([sys.executable, 'tools/infer_scene.py',
                          str(tmp_path / 'cfg.py'), str(tmp_path / 'det.pth'),
                          str(tmp_path / 'scene.json'), '--outputs', 'boxes',
                          '--out-dir', str(tmp_path / 'cli'), *opts], cwd=repo_root,
                         env=cli_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    m = json.load(open(tmp_path / 'cli' / 'manifest.json'))
    assert m['settings']['nms_iou'] == 0.4 and m['settings']['score_thr'] == 0.01
    feats = _check_dior_output(tmp_path / 'cli', m)
    assert all(score >= 0.01 for _, _, score, _ in feats)
    threads = torch.get_num_threads()
    try:
        api = SceneInferencer(str(tmp_path / 'cfg.py'), str(tmp_path / 'det.pth'),
                              tile=64, overlap=16, nms_iou=0.4, score_thr=0.01,
                              num_threads=1, progress=False)
        api(scene, str(tmp_path / 'api'))
    finally:
        torch.set_num_threads(threads)
    assert _read_gpkg(tmp_path / 'api' / 'boxes.gpkg')[1] == feats
