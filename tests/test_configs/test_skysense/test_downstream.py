"""The SkySense HR downstream configs (iSAID UperNet, DIOR Faster R-CNN, and their
frozen-backbone variants) train, validate and test end to end on CPU.

Each test writes a tiny fake of the dataset's official layout (converted as the base
dataset config expects), loads the config as ``tools/train.py`` does, shrinks it (the
'skysense-tiny' backbone with channels [32, 64, 128, 256] in the neck and heads, no
pretrained weights, 128 px inputs, a couple of iterations) and runs
``runner.train()`` and ``runner.test()``.
"""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from tests.helpers.config_helpers import (ROOT, TINY_CHANNELS, assert_finite, build_runner,
                            leaf_datasets, load_train_config, set_scale, shrink_common)
from tests.helpers.fake_data.dior import make_dior
from tests.helpers.fake_data.isaid import make_isaid
from tools.dataset_converters import isaid

SEG_CONFIG = 'configs/skysense/skysense-hr_upernet_8xb2-80k_isaid-896x896.py'
DET_CONFIG = 'configs/skysense/skysense-hr_faster-rcnn_fpn_8xb1-12e_dior-800x800.py'


def _shrink_common(cfg, data_root):
    assert cfg.optim_wrapper.constructor == 'eofm.LayerDecayOptimWrapperConstructor'
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(cfg.optim_wrapper.constructor) is not None
    return shrink_common(cfg, data_root)


SEG_FROZEN = 'configs/skysense/skysense-hr-frozen_upernet_8xb2-80k_isaid-896x896.py'
DET_FROZEN = ('configs/skysense/'
              'skysense-hr-frozen_faster-rcnn_fpn_8xb1-12e_dior-800x800.py')


class _BackboneWatch(Hook):
    """Snapshot the backbone after weight init, compare after training."""

    def before_train(self, runner):
        model = runner.model
        self.before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
        self.head_before = {
            k: v.clone()
            for k, v in model.state_dict().items() if not k.startswith('backbone.')
        }

    def after_train(self, runner):
        model = runner.model
        self.backbone_changed = [
            k for k, v in model.backbone.state_dict().items()
            if not torch.equal(v, self.before[k])
        ]
        self.heads_changed = [
            k for k, v in model.state_dict().items()
            if k in self.head_before and not torch.equal(v, self.head_before[k])
        ]


def _isaid_tiny(cfg):
    crop = (128, 128)
    cfg.model.decode_head.in_channels = TINY_CHANNELS
    cfg.model.decode_head.channels = 32
    cfg.model.auxiliary_head.in_channels = TINY_CHANNELS[2]
    cfg.model.auxiliary_head.channels = 16
    cfg.model.data_preprocessor.size = crop
    cfg.data_preprocessor.size = crop
    # 192 px test images: 2 x 2 sliding windows of 128 px
    cfg.model.test_cfg = dict(mode='slide', crop_size=crop, stride=(64, 64))
    set_scale(cfg.train_dataloader.dataset.pipeline, crop)
    set_scale(cfg.val_dataloader.dataset.pipeline, (192, 192))
    set_scale(cfg.test_dataloader.dataset.pipeline, (192, 192))
    return cfg


def _dior_tiny(cfg):
    cfg.model.neck.in_channels = TINY_CHANNELS
    cfg.model.neck.out_channels = 32
    cfg.model.rpn_head.in_channels = cfg.model.rpn_head.feat_channels = 32
    cfg.model.roi_head.bbox_roi_extractor.out_channels = 32
    cfg.model.roi_head.bbox_head.in_channels = 32
    cfg.model.roi_head.bbox_head.fc_out_channels = 64
    for ds in leaf_datasets(cfg.train_dataloader.dataset):
        set_scale(ds.pipeline, (128, 128))
    set_scale(cfg.val_dataloader.dataset.pipeline, (128, 128))
    set_scale(cfg.test_dataloader.dataset.pipeline, (128, 128))
    return cfg


def _isaid_data(tmp_path):
    make_isaid(tmp_path / 'iSAID')
    data_root = tmp_path / 'isaid'
    isaid.convert_isaid(
        str(tmp_path / 'iSAID'), str(data_root), splits=('train', 'val'))
    return data_root


@pytest.mark.parametrize('config', [SEG_CONFIG, SEG_FROZEN])
def test_skysense_hr_upernet_isaid(config, tmp_path):
    data_root = _isaid_data(tmp_path)
    cfg = _shrink_common(load_train_config(config, tmp_path / 'work'), data_root)
    frozen = config == SEG_FROZEN

    # Paper setup kept in the config
    assert cfg.model.decode_head.in_channels == [352, 704, 1408, 2816]
    assert cfg.model.auxiliary_head.in_channels == 1408
    assert cfg.model.decode_head.num_classes == 16
    assert cfg.model.test_cfg == dict(
        mode='slide', crop_size=(896, 896), stride=(512, 512))
    assert cfg.train_cfg.max_iters == 80000 and cfg.train_dataloader.batch_size == 2
    assert cfg.param_scheduler[0].end == cfg.param_scheduler[1].begin == 1500
    assert cfg.model.backbone.get('frozen_stages', -1) == (3 if frozen else -1)

    _isaid_tiny(cfg)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1),
        dict(type='PolyLR', power=1.0, by_epoch=False, begin=1, end=2)
    ]

    runner = build_runner(cfg)
    watch = _BackboneWatch()
    runner.register_hook(watch)
    runner.train()
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    assert watch.heads_changed
    assert bool(watch.backbone_changed) != frozen, watch.backbone_changed[:5]
    metrics = runner.test()
    assert_finite(metrics, 'mIoU')


@pytest.mark.parametrize('config', [DET_CONFIG, DET_FROZEN])
def test_skysense_hr_faster_rcnn_dior(config, tmp_path):
    fake = make_dior(tmp_path / 'dior')
    cfg = _shrink_common(load_train_config(config, tmp_path / 'work'), fake['root'])
    frozen = config == DET_FROZEN

    assert cfg.model.neck.in_channels == [352, 704, 1408, 2816]
    assert cfg.model.roi_head.bbox_head.num_classes == 20
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.param_scheduler[1].milestones == [8, 11]
    train_sets = leaf_datasets(cfg.train_dataloader.dataset)
    assert [d.ann_file for d in train_sets
            ] == ['ImageSets/Main/train.txt', 'ImageSets/Main/val.txt']
    assert cfg.test_dataloader.dataset.ann_file == 'ImageSets/Main/test.txt'
    assert cfg.model.backbone.get('frozen_stages', -1) == (3 if frozen else -1)

    _dior_tiny(cfg)
    cfg.train_cfg.max_epochs = 1  # 3 images (train + val), batch 1
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2),
        dict(type='MultiStepLR', by_epoch=True, begin=0, end=1, milestones=[1])
    ]

    runner = build_runner(cfg)
    watch = _BackboneWatch()
    runner.register_hook(watch)
    runner.train()
    assert osp.isfile(tmp_path / 'work' / 'epoch_1.pth')
    assert watch.heads_changed
    assert bool(watch.backbone_changed) != frozen, watch.backbone_changed[:5]
    metrics = runner.test()
    assert_finite(metrics, 'pascal_voc/mAP')


@pytest.mark.parametrize('task', ['dior', 'isaid'])
def test_tools_test_with_the_release_hr_file(task, tmp_path, python_exe, cli_env):
    """tools/test.py CONFIG CHECKPOINT on DIOR and iSAID with a checkpoint made from
    the HR release file prints the metric table and writes overlays with
    --show-dir."""
    import subprocess

    from eofm.models import SkySenseSwinV2
    from tools.model_converters.skysense2eofm import main as convert
    if task == 'dior':
        root = make_dior(tmp_path / 'dior')['root']
        cfg = _dior_tiny(
            _shrink_common(load_train_config(DET_CONFIG, tmp_path / 'work'), root))
        metric, table = 'pascal_voc/mAP', 'mAP'
    else:
        root = _isaid_data(tmp_path)
        cfg = _isaid_tiny(
            _shrink_common(load_train_config(SEG_CONFIG, tmp_path / 'work'), root))
        cfg.default_hooks.visualization.draw = True
        metric, table = 'mIoU', 'per class results'
    cfg_path = tmp_path / f'{task}_tiny.py'
    cfg.dump(str(cfg_path))
    hr = SkySenseSwinV2('skysense-tiny')
    release = {'model': {'backbone.' + k: v for k, v in hr.state_dict().items()}}
    release['model']['backbone.mask_token'] = torch.zeros(1, 1, 32)
    torch.save(release, tmp_path / 'skysense_model_backbone_hr.pth')
    convert([
        'hr',
        str(tmp_path / 'skysense_model_backbone_hr.pth'),
        str(tmp_path / 'hr_backbone.pth')
    ])
    res = subprocess.run([
        python_exe, 'tools/test.py',
        str(cfg_path),
        str(tmp_path / 'hr_backbone.pth'), '--show-dir', 'vis', '--work-dir',
        str(tmp_path / 'test'),
        # a backbone-only file: the heads stay initialised (strict loading would
        # refuse it, naming the missing keys)
        '--cfg-options', 'load_strict=False'
    ],
                         cwd=ROOT,
                         env=cli_env,
                         capture_output=True,
                         text=True,
                         timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert metric in out and table in out
    assert 'backbone.norm3.weight' not in out.split('missing keys')[-1][:2000]
    shown = list((tmp_path / 'test').rglob('vis/*'))
    assert shown, 'no prediction overlays written'


def test_voc_map_is_one_for_ground_truth_predictions(tmp_path):
    """The DIOR evaluator scores predictions equal to the ground truth as 1.0."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DATASETS, METRICS, DefaultScope
    register_all_modules(False)
    fake = make_dior(tmp_path / 'dior')
    cfg = _shrink_common(load_train_config(DET_CONFIG, tmp_path / 'work'), fake['root'])
    with DefaultScope.overwrite_default_scope('mmdet'):
        ds = DATASETS.build(dict(cfg.test_dataloader.dataset, pipeline=[]))
        metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        boxes = [inst['bbox'] for inst in info['instances']]
        labels = [inst['bbox_label'] for inst in info['instances']]
        ignore = [inst.get('ignore_flag', 0) for inst in info['instances']]
        samples.append(
            dict(
                img_id=info['img_id'],
                ori_shape=(info['height'], info['width']),
                instances=info['instances'],
                gt_instances=dict(
                    bboxes=torch.tensor(boxes).view(-1, 4),
                    labels=torch.tensor(labels)),
                ignored_instances=dict(bboxes=torch.zeros(0, 4), labels=torch.zeros(0)),
                pred_instances=dict(
                    bboxes=torch.tensor(boxes).view(-1, 4).float(),
                    scores=torch.ones(len(boxes)),
                    labels=torch.tensor(labels)),
                ignore=ignore))
    metric.process({}, samples)
    assert metric.evaluate(len(samples))['pascal_voc/mAP'] == 1.0


def test_dist_train_isaid_upernet_on_two_cpu_processes(tmp_path, cli_env, free_port):
    """tools/dist_train.sh runs a task config with SyncBN heads on 2 CPU processes
    (SyncBN runs as BatchNorm there, with a warning)."""
    import subprocess
    root = _isaid_data(tmp_path)
    cfg = _isaid_tiny(
        _shrink_common(load_train_config(SEG_CONFIG, tmp_path / 'work'), root))
    # 2 per process: per-process BatchNorm in the pooling module needs > 1 value
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)
    ]
    assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
    cfg_path = tmp_path / 'isaid_tiny.py'
    cfg.dump(str(cfg_path))
    res = subprocess.run([
        'bash', 'tools/dist_train.sh',
        str(cfg_path), '2', '--work-dir',
        str(tmp_path / 'dist')
    ],
                         cwd=ROOT,
                         env=dict(cli_env, PORT=str(free_port)),
                         capture_output=True,
                         text=True,
                         timeout=600)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    assert 'SyncBatchNorm needs an accelerator' in out
    assert 'mIoU' in out
    assert osp.isfile(tmp_path / 'dist' / 'iter_2.pth')
