"""The SkySense HR oriented detection configs (Oriented R-CNN on DIOR-R and FAIR1M,
SkySense Table 2b / J13 (ii)) train, validate and test end to end on CPU, and FAIR1M's
leaderboard submission (one FAIR1M XML file per test image) comes out of
``tools/test.py CONFIG CHECKPOINT``.

Each config test writes a tiny fake of the dataset's official layout (converted and
cut into patches as the config's header says), loads the config as ``tools/train.py``
does, checks the paper's hyperparameters, shrinks it (the 'skysense-tiny' backbone
with channels [32, 64, 128, 256] in the neck and heads, 128 px inputs, two training
iterations) and runs it through ``build_runner``.
"""
import math
import os.path as osp
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DATASETS, METRICS, MODELS, DefaultScope

from tests.helpers.config_helpers import (ROOT, TINY_CHANNELS, assert_finite, build_runner,
                            leaf_datasets, load_train_config, set_scale, shrink_common)
from eofm.datasets.detection import FAIR1M_CLASSES, FAIR1MDataset
from eofm.evaluation.metrics import FAIR1MMetric, parse_patch_id
from tests.helpers.fake_data.dior import make_dior
from tests.helpers.fake_data.fair1m import make_fair1m
from tools.dataset_converters import dota_split, fair1m_to_dota

DIOR_R_CONFIG = ('configs/skysense/'
                 'skysense-hr_oriented-rcnn-le90_fpn_2xb1-12e_dior-r-800x800.py')
FAIR1M_CONFIG = ('configs/skysense/'
                 'skysense-hr_oriented-rcnn-le90_fpn_4xb3-8e_fair1m-512x512.py')
# Unlabelled FAIR1M test images (name -> (height, width)): '10' gives two 512 px
# patches (x = 0 and x = 188), '11' one padded patch.
TEST_IMAGES = {'10': (500, 700), '11': (300, 300)}
SCALE = (128, 128)


@pytest.fixture(autouse=True)
def _threaded_rbbox_map(monkeypatch):
    """mmrotate's eval_rbbox_map (DOTAMetric's mAP) starts a 'spawn' process pool on
    every call: 4 fresh interpreters importing torch and mmrotate, about 20 s on two
    cores. The tests give it a thread pool (same results; ``multiprocessing.dummy``
    has the ``Pool`` of the context object it asks for)."""
    import multiprocessing.dummy

    from mmrotate.evaluation.functional import mean_ap
    monkeypatch.setattr(mean_ap, 'get_context', lambda method: multiprocessing.dummy)


def _register_mmrotate():
    from mmrotate.utils import register_all_modules
    register_all_modules(False)


def _assert_oriented_rcnn_paper_setup(cfg):
    """Table J13 (ii), common to DIOR-R and FAIR1M (checked before shrinking)."""
    backbone = cfg.model.backbone
    assert (backbone.arch, backbone.in_channels, backbone.window_size) == ('huge', 3, 8)
    assert backbone.out_indices == (0, 1, 2, 3) and backbone.drop_path_rate == 0.3
    assert backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint='checkpoints/skysense_model_backbone_hr.pth',
        prefix='backbone')
    assert cfg.model.neck.in_channels == [352, 704, 1408, 2816]
    assert cfg.model.rpn_head.type == 'OrientedRPNHead'
    assert cfg.model.roi_head.bbox_head.predict_box_type == 'rbox'
    assert cfg.model.roi_head.bbox_head.bbox_coder.angle_version == 'le90'
    for head in (cfg.model.rpn_head, cfg.model.roi_head.bbox_head):
        assert head.loss_cls.type == 'mmdet.CrossEntropyLoss'
        assert head.loss_bbox.type == 'mmdet.SmoothL1Loss'
    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert (optim.optimizer.lr, optim.optimizer.weight_decay) == (1e-4, 0.05)
    assert optim.constructor == 'eofm.LayerDecayOptimWrapperConstructor'
    assert optim.paramwise_cfg == dict(decay_rate=0.9)
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.by_epoch) == ('LinearLR', 1e-3,
                                                                   False)
    assert steps.type == 'MultiStepLR' and steps.by_epoch and steps.gamma == 0.1
    assert cfg.default_scope == 'mmrotate'
    return warmup, steps


def _shrink_oriented(cfg, data_root):
    """Tiny backbone, 32-channel neck and heads, fewer proposals, 128 px inputs."""
    cfg = shrink_common(cfg, data_root)
    model = cfg.model
    model.neck.in_channels = TINY_CHANNELS
    model.neck.out_channels = 32
    model.rpn_head.in_channels = model.rpn_head.feat_channels = 32
    model.roi_head.bbox_roi_extractor.out_channels = 32
    model.roi_head.bbox_head.in_channels = 32
    model.roi_head.bbox_head.fc_out_channels = 64
    model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    model.train_cfg.rcnn.sampler.num = 64
    model.test_cfg.rpn.update(nms_pre=200, max_per_img=100)
    model.test_cfg.rcnn.update(nms_pre=200, max_per_img=50)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for ds in leaf_datasets(cfg[name].dataset):
            set_scale(ds.pipeline, SCALE)
    # 2 training iterations: one epoch of (up to) 4 images in batches of 2
    cfg.train_dataloader.batch_size = 2
    # FAIR1M: 4 of the training patches (DIOR-R's train + val lists hold 3 images)
    if 'datasets' not in cfg.train_dataloader.dataset:
        cfg.train_dataloader.dataset.indices = 4
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 2  # evaluated by the tests after training
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
        dict(type='MultiStepLR', by_epoch=True, begin=0, end=1, milestones=[1])
    ]
    return cfg


def _dior_r_cfg(tmp_path):
    fake = make_dior(tmp_path / 'dior')
    return load_train_config(DIOR_R_CONFIG, tmp_path / 'work'), fake['root']


@pytest.fixture(scope='module')
def fair1m_root(tmp_path_factory):
    """Fake FAIR1M (train, validation, unlabelled test) prepared as the config says."""
    tmp = tmp_path_factory.mktemp('fair1m')
    fake = make_fair1m(tmp / 'FAIR1M')
    rng = np.random.default_rng(0)
    test_images = tmp / 'FAIR1M' / 'test' / 'images'
    test_images.mkdir(parents=True)
    for name, hw in TEST_IMAGES.items():
        img = rng.integers(0, 255, hw + (3, ), dtype=np.uint8)
        cv2.imwrite(str(test_images / f'{name}.tif'), img)
    data = tmp / 'fair1m'
    fair1m_to_dota.fair1m_to_dota(
        osp.join(fake['root'], 'train'), str(data / 'dota' / 'train'))
    fair1m_to_dota.fair1m_to_dota(
        osp.join(fake['root'], 'validation'), str(data / 'dota' / 'val'))
    # training patches at the config's train_split_rates (multi-scale), as its header
    rates = Config.fromfile(osp.join(ROOT, FAIR1M_CONFIG)).train_split_rates
    assert tuple(rates) == (0.5, 1.0, 1.5)
    train = dota_split.split_dota(
        str(data / 'dota' / 'train'),
        str(data / 'split_ms_512' / 'train'),
        size=512,
        gap=200,
        rates=rates)
    # windows of 512 / rate px, all resized to 512 px by the pipeline
    assert {p.split('__')[1] for p, _ in train} == {'1024', '512', '341'}
    dota_split.split_dota(
        str(data / 'dota' / 'val'),
        str(data / 'split_ss_512' / 'val'),
        size=512,
        gap=200)
    patches = dota_split.split_dota(
        str(tmp / 'FAIR1M' / 'test'),
        str(data / 'split_ss_512' / 'test'),
        size=512,
        gap=200)
    assert sorted(p for p, _ in patches) == [
        '10__512__0___0', '10__512__188___0', '11__512__0___0'
    ]
    assert not osp.exists(data / 'split_ss_512' / 'test' / 'annfiles')
    return data


def _fair1m_cfg(tmp_path):
    return load_train_config(FAIR1M_CONFIG, tmp_path / 'work')


def _read_submission_xml(path):
    """[(name, probability, [(x, y)] * 5)] of one FAIR1M XML file; checks the format."""
    root = ET.parse(path).getroot()
    assert root.tag == 'annotation'
    stem = osp.splitext(osp.basename(path))[0]
    assert root.findtext('source/filename') == stem + '.tif'
    objects = []
    for obj in root.find('objects').findall('object'):
        name = obj.findtext('possibleresult/name')
        prob = float(obj.findtext('possibleresult/probability'))
        points = [
            tuple(float(v) for v in p.text.split(','))
            for p in obj.find('points').findall('point')
        ]
        assert len(points) == 5 and points[0] == points[-1], points
        objects.append((name, prob, points))
    return objects


# ------------------------------------------------------------------------ DIOR-R
def test_skysense_hr_oriented_rcnn_dior_r(tmp_path):
    cfg, root = _dior_r_cfg(tmp_path)
    warmup, steps = _assert_oriented_rcnn_paper_setup(cfg)
    assert cfg.model.backbone.img_size == 800
    assert cfg.model.roi_head.bbox_head.num_classes == 20
    assert (warmup.begin, warmup.end) == (0, 1000)
    assert steps.milestones == [8, 11] and cfg.train_cfg.max_epochs == 12
    assert cfg.train_dataloader.batch_size == 1  # 2 GPUs x 1 = Table J13's 2
    assert cfg.auto_scale_lr.base_batch_size == 2
    train_sets = leaf_datasets(cfg.train_dataloader.dataset)
    assert [d.ann_file for d in train_sets
            ] == ['ImageSets/Main/train.txt', 'ImageSets/Main/val.txt']
    assert cfg.test_dataloader.dataset.ann_file == 'ImageSets/Main/test.txt'
    for ds in train_sets + [cfg.val_dataloader.dataset]:
        resize = [t for t in ds.pipeline if t.type == 'mmdet.Resize']
        assert resize[0].scale == (800, 800)
    assert any(t.type == 'mmdet.RandomFlip' for t in train_sets[0].pipeline)
    assert cfg.test_evaluator == dict(
        type='DOTAMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')

    cfg = _shrink_oriented(cfg, root)
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 2  # 3 images (train + val lists) in batches of 2
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')
    metrics = runner.test()
    assert_finite(metrics, 'dota/mAP')


# ------------------------------------------------------------------------ FAIR1M
def test_skysense_hr_oriented_rcnn_fair1m(tmp_path, fair1m_root):
    cfg = _fair1m_cfg(tmp_path)
    warmup, steps = _assert_oriented_rcnn_paper_setup(cfg)
    assert cfg.model.backbone.img_size == 512
    assert cfg.model.roi_head.bbox_head.num_classes == 37 == len(FAIR1M_CLASSES)
    assert (warmup.begin, warmup.end) == (0, 500)
    assert steps.milestones == [6, 7] and cfg.train_cfg.max_epochs == 8
    assert cfg.train_dataloader.batch_size == 3  # 4 GPUs x 3 = Table J13's 12
    assert cfg.auto_scale_lr.base_batch_size == 12
    train_types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert {'mmdet.RandomFlip', 'RandomRotate'} <= set(train_types)
    rotate = cfg.train_dataloader.dataset.pipeline[train_types.index('RandomRotate')]
    assert [FAIR1M_CLASSES[i] for i in rotate.rect_obj_labels] == ['Roundabout']
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[name].dataset
        assert ds.img_shape == (512, 512)
        assert [t.scale for t in ds.pipeline
                if t.type == 'mmdet.Resize'] == [(512, 512)]
    assert cfg.train_dataloader.dataset.ann_file == 'split_ms_512/train/annfiles/'
    assert cfg.val_dataloader.dataset.ann_file == 'split_ss_512/val/annfiles/'
    assert cfg.test_dataloader.dataset.ann_file == ''  # unlabelled test patches
    assert cfg.val_evaluator.type == cfg.test_evaluator.type == 'eofm.FAIR1MMetric'
    assert not cfg.val_evaluator.get('format_only', False)
    assert cfg.test_evaluator.format_only and cfg.test_evaluator.merge_patches

    cfg = _shrink_oriented(cfg, fair1m_root)
    out = tmp_path / 'submission' / 'test'
    cfg.test_evaluator.outfile_prefix = str(out)
    runner = build_runner(cfg)
    runner.train()  # 2 iterations
    assert runner.iter == 2
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')
    assert_finite(runner.val(), 'fair1m/mAP')
    assert runner.test() == {}  # format_only: the submission, no metric
    assert sorted(p.name for p in out.iterdir()) == ['10.xml', '11.xml']


def test_tools_test_writes_the_fair1m_submission(tmp_path, fair1m_root, python_exe,
                                                 cli_env):
    """tools/test.py CONFIG CHECKPOINT on the unlabelled test patches writes one FAIR1M
    XML file per test image (patches merged) and the zip."""
    cfg = _shrink_oriented(_fair1m_cfg(tmp_path), fair1m_root)
    # An untrained model scores about 1/38 per class: keep every box, at most 20
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=20)
    out = tmp_path / 'submission' / 'test'
    cfg.test_evaluator.outfile_prefix = str(out)
    cfg_path = tmp_path / 'fair1m_tiny.py'
    cfg.dump(str(cfg_path))
    _register_mmrotate()
    with DefaultScope.overwrite_default_scope('mmrotate'):
        model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'tiny.pth')

    res = subprocess.run([
        python_exe, 'tools/test.py',
        str(cfg_path),
        str(tmp_path / 'tiny.pth'), '--work-dir',
        str(tmp_path / 'test')
    ],
                         cwd=ROOT,
                         env=cli_env,
                         capture_output=True,
                         text=True,
                         timeout=600)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    assert 'FAIR1M submission: 2 XML files' in log
    assert sorted(p.name for p in out.iterdir()) == ['10.xml', '11.xml']
    for name in TEST_IMAGES:
        objects = _read_submission_xml(out / f'{name}.xml')
        assert 0 < len(objects) <= 20 * sum(
            parse_patch_id(p.stem)[0] == name
            for p in (fair1m_root / 'split_ss_512' / 'test' / 'images').iterdir())
        for cls, prob, points in objects:
            assert cls in FAIR1M_CLASSES and 0 <= prob <= 1
            assert all(math.isfinite(v) for point in points for v in point)
    with zipfile.ZipFile(str(out) + '.zip') as zf:
        assert sorted(zf.namelist()) == ['test/10.xml', 'test/11.xml']
    # What fair1m_to_dota.py reads from FAIR1M's own files reads the submission too
    parsed = fair1m_to_dota.parse_fair1m_xml(str(out / '10.xml'))
    assert len(parsed) == len(_read_submission_xml(out / '10.xml'))
    assert all(len(coords) == 8 for coords, _ in parsed)


# ------------------------------------------------------ mAP of ground-truth boxes
@pytest.mark.parametrize('dataset', ['dior_r', 'fair1m'])
def test_map_is_one_for_ground_truth_predictions(dataset, tmp_path, request):
    """The configs' evaluators (DOTAMetric on the DIOR-R test list, FAIR1MMetric on
    the FAIR1M validation patches) score predictions equal to the ground truth 1.0."""
    from mmrotate.structures.bbox import qbox2rbox
    _register_mmrotate()
    if dataset == 'dior_r':
        cfg, root = _dior_r_cfg(tmp_path)
        loader, evaluator, key = cfg.test_dataloader, cfg.test_evaluator, 'dota/mAP'
    else:
        root = request.getfixturevalue('fair1m_root')
        cfg = _fair1m_cfg(tmp_path)
        loader, evaluator, key = cfg.val_dataloader, cfg.val_evaluator, 'fair1m/mAP'
    cfg = shrink_common(cfg, root)
    with DefaultScope.overwrite_default_scope('mmrotate'):
        ds = DATASETS.build(dict(loader.dataset, pipeline=[]))
        metric = METRICS.build(evaluator)
    metric.dataset_meta = ds.metainfo
    samples, num_gts = [], 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        qboxes = torch.tensor([inst['bbox'] for inst in info['instances']],
                              dtype=torch.float32).view(-1, 8)
        rboxes = qbox2rbox(qboxes)
        labels = torch.tensor([inst['bbox_label'] for inst in info['instances']])
        num_gts += len(labels)
        samples.append(
            dict(
                img_id=info['img_id'],
                gt_instances=dict(bboxes=rboxes, labels=labels),
                ignored_instances=dict(bboxes=torch.zeros(0, 5), labels=torch.zeros(0)),
                pred_instances=dict(
                    bboxes=rboxes.clone(),
                    scores=torch.ones(len(labels)),
                    labels=labels)))
    assert num_gts == (4 if dataset == 'dior_r' else 1)
    metric.process({}, samples)
    assert metric.evaluate(len(samples))[key] == 1.0


# ---------------------------------------------------- merge and XML on hand-made boxes
def _pred(img_id, boxes, scores, labels):
    return dict(
        img_id=img_id,
        pred_instances=dict(
            bboxes=torch.tensor(boxes, dtype=torch.float32).view(-1, 5),
            scores=torch.tensor(scores, dtype=torch.float32),
            labels=torch.tensor(labels, dtype=torch.int64)),
        gt_instances={},
        ignored_instances={})


def test_fair1m_metric_merges_patches_into_whole_image_xml(tmp_path):
    metric = FAIR1MMetric(
        format_only=True, outfile_prefix=str(tmp_path / 'sub' / 'test'))
    metric.dataset_meta = FAIR1MDataset.METAINFO
    car, ship = FAIR1M_CLASSES.index('Small Car'), FAIR1M_CLASSES.index(
        'Passenger Ship')
    metric.process(
        {},
        [
            # patch at (0, 0): a car, and a ship in the overlap with the second patch
            _pred('P7__512__0___0', [[100, 50, 40, 20, 0], [400, 300, 60, 20, 0]],
                  [0.9, 0.6], [car, ship]),
            # patch at (312, 100): the same ship (higher score) and another car
            _pred('P7__512__312___100', [[88, 200, 60, 20, 0], [200, 10, 20, 40, 0]],
                  [0.8, 0.7], [ship, car]),
            # an image whose only patch has no detection
            _pred('P8__512__0___0', np.zeros((0, 5)), [], []),
        ])
    assert metric.evaluate(3) == {}
    out = tmp_path / 'sub' / 'test'
    assert sorted(p.name for p in out.iterdir()) == ['P7.xml', 'P8.xml']
    assert _read_submission_xml(out / 'P8.xml') == []
    objects = sorted(_read_submission_xml(out / 'P7.xml'), key=lambda o: -o[1])
    # the duplicate ship (same whole-image box) is merged by NMS: the 0.8 one stays
    assert [(name, round(prob,
                         6)) for name, prob, _ in objects] == [('Small Car', 0.9),
                                                               ('Passenger Ship', 0.8),
                                                               ('Small Car', 0.7)]
    centres = np.array([np.mean(points[:4], axis=0) for _, _, points in objects])
    np.testing.assert_allclose(centres, [[100, 50], [400, 300], [512, 110]], atol=1e-4)
    xs, ys = zip(*objects[0][2][:4])  # 40 x 20 px car, axis-aligned
    assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx((80, 120, 40, 60))
    with zipfile.ZipFile(tmp_path / 'sub' / 'test.zip') as zf:
        assert sorted(zf.namelist()) == ['test/P7.xml', 'test/P8.xml']
    # FAIR1M names (spaces) read back by the converter as the DOTA names
    parsed = fair1m_to_dota.parse_fair1m_xml(str(out / 'P7.xml'))
    assert sorted(
        name for _, name in parsed) == ['Passenger Ship', 'Small Car', 'Small Car']
    # Never writes into an existing folder (e.g. annotations by mistake)
    again = FAIR1MMetric(format_only=True, outfile_prefix=str(out))
    again.dataset_meta = FAIR1MDataset.METAINFO
    again.process({}, [_pred('P9__512__0___0', [[10, 10, 4, 4, 0]], [0.5], [0])])
    with pytest.raises(FileExistsError, match='outfile_prefix'):
        again.evaluate(1)
    assert sorted(p.name for p in out.iterdir()) == ['P7.xml', 'P8.xml']


def test_fair1m_metric_options_and_patch_ids():
    assert parse_patch_id('P7__512__312___100') == ('P7', (312, 100))
    assert parse_patch_id('a__b__1024__0___88') == ('a__b', (0, 88))
    assert parse_patch_id('whole') == ('whole', (0, 0))
    with pytest.raises(ValueError, match='outfile_prefix'):
        FAIR1MMetric(format_only=True)
    with pytest.raises(ValueError, match='format_only'):
        FAIR1MMetric(merge_patches=True)
    metric = FAIR1MMetric()
    assert not metric.format_only and not metric.merge_patches
    assert FAIR1MMetric(format_only=True, outfile_prefix='x').merge_to_images
    assert not FAIR1MMetric(
        format_only=True, outfile_prefix='x', merge_patches=False).merge_to_images
    assert math.isclose(metric.iou_thrs[0], 0.5) and metric.use_07_metric
