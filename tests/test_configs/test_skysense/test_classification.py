"""The SkySense scene-classification configs (AID, RESISC-45, BEN-S2, fMoW-S2, BEN-MM,
frozen AID) keep the paper's setup and train, validate and test end to end on CPU.

Each case checks the Table J13 / J14 / B6 hyperparameters of the shipped config,
writes a tiny fake of the dataset's official layout (plus the split lists of
``scene_splits.py`` for AID / RESISC-45), shrinks the model to the tiny presets
without pretrained weights, runs two training iterations through ``build_runner``
(the code path of ``tools/train.py``) and one evaluation, and checks the metrics.
"""
import math
import re

import pytest
import torch
from mmengine.hooks import Hook

from tests.helpers.config_helpers import (TINY_CHANNELS, assert_finite, build_runner, cpu_runtime,
                            leaf_datasets, load_train_config, shrink_common)
from tests.helpers.fake_data.bigearthnet import make_bigearthnet
from tests.helpers.fake_data.fmow import make_fmow
from tests.helpers.fake_data.scene_classification import make_aid, make_nwpu_resisc45
from tools.dataset_converters.scene_splits import make_splits

CFG = 'configs/skysense/skysense-{}.py'
# Tables J13 (iii) / J14 (iii): lr, weight decay, epochs, total batch, input size,
# warm-up start factor (None: no warm-up), scheduler after it, head
HR = dict(
    lr=6.25e-5,
    wd=0.05,
    epochs=200,
    batch=64,
    crop=224,
    warmup=0.01,
    sched='CosineAnnealingLR',
    head='LinearClsHead')
BEN = dict(
    lr=5e-5,
    wd=0.01,
    epochs=100,
    batch=256,
    crop=128,
    warmup=None,
    sched='MultiStepLR',
    head='MultiLabelLinearClsHead')
FMOW = dict(
    lr=8e-4,
    wd=0.05,
    epochs=30,
    batch=1024,
    crop=96,
    warmup=0.2,
    sched='CosineAnnealingLR',
    head='LinearClsHead')
# config -> (dataset, split, classes, paper setup)
CASES = {
    'hr_linear_8xb8-200e_aid-tr20-224px': ('aid', 'tr20', 30, HR),
    'hr_linear_8xb8-200e_aid-tr50-224px': ('aid', 'tr50', 30, HR),
    'hr_linear_8xb8-200e_resisc45-tr10-224px': ('resisc45', 'tr10', 45, HR),
    'hr_linear_8xb8-200e_resisc45-tr20-224px': ('resisc45', 'tr20', 45, HR),
    'hr-frozen_linear_8xb8-200e_aid-tr20-224px': ('aid', 'tr20', 30, HR),
    'hr-frozen_linear_8xb8-200e_aid-tr50-224px': ('aid', 'tr50', 30, HR),
    's2_linear_8xb32-100e_bigearthnet-s2-128px': ('ben', 's2', 19, BEN),
    'mm_linear_8xb32-100e_bigearthnet-mm-128px': ('ben', 'mm', 19, BEN),
    's2_linear_8xb128-30e_fmow-s2-96px': ('fmow', 'series', 62, FMOW),
}
SCENE = dict(
    aid=(make_aid, 'AID', 'aid'),
    resisc45=(make_nwpu_resisc45, 'NWPU-RESISC45', 'nwpu_resisc45'))
METRICS = dict(
    aid=['accuracy/top1'],
    resisc45=['accuracy/top1'],
    fmow=['accuracy/top1', 'accuracy/top5'],
    ben=['multi-label/mAP', 'multi-label/f1-score'])
S2_BANDS = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']


def _check_paper_setup(name, cfg, classes, paper):
    gpus, per_gpu, epochs = map(int, re.search(r'(\d+)xb(\d+)-(\d+)e', name).groups())
    assert gpus * per_gpu == paper['batch'] == cfg.auto_scale_lr.base_batch_size
    assert cfg.train_dataloader.batch_size == per_gpu
    assert epochs == paper['epochs'] == cfg.train_cfg.max_epochs
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', paper['lr'], paper['wd'])
    assert cfg.model.type == 'ImageClassifier'
    assert cfg.model.neck.type == 'GlobalAveragePooling'
    head = cfg.model.head
    assert (head.type, head.num_classes) == (paper['head'], classes)
    # cross-entropy; sigmoid (binary) for the multi-label MultiLabelSoftMargin loss
    assert head.loss.type == 'CrossEntropyLoss'
    assert head.loss.get('use_sigmoid', False) == head.type.startswith('MultiLabel')
    sched = [s.type for s in cfg.param_scheduler]
    if paper['warmup'] is None:
        assert sched == [paper['sched']]
    else:  # a 5-epoch linear warm-up, then to the last epoch
        warm, main = cfg.param_scheduler
        assert sched == ['LinearLR', paper['sched']]
        assert (warm.start_factor, warm.end, main.begin) == (paper['warmup'], 5, 5)
        assert main.end == epochs


def _check_multilabel_loss(cfg):
    """The head's loss is torch's MultiLabelSoftMarginLoss (Table J13 / J14)."""
    from mmpretrain.models import MultiLabelLinearClsHead
    from mmpretrain.structures import DataSample
    head_cfg = dict(cfg.model.head)
    head_cfg.pop('type')
    head = MultiLabelLinearClsHead(**dict(head_cfg, in_channels=8))
    feats = torch.randn(4, 8)
    target = (torch.rand(4, 19) > 0.7).float()
    samples = [DataSample().set_gt_score(t) for t in target]
    loss = head.loss((feats, ), samples)['loss']
    expect = torch.nn.MultiLabelSoftMarginLoss()(head.fc(feats), target)
    torch.testing.assert_close(loss, expect)


def _fake_scene(tmp_path, dataset, split):
    """Fake class folders and scene_splits lists; returns (data root, train size)."""
    make, folder, kind = SCENE[dataset]
    root = tmp_path / kind
    make(root)
    ratio = int(split[2:]) / 100
    counts = make_splits(str(root / folder), str(root / 'splits'), kind, (ratio, ))
    return root, counts[ratio][0]


def _shrink_scene(cfg, tmp_path, dataset, split, paper):
    pipes = [cfg[f'{s}_dataloader'].dataset.pipeline for s in ('train', 'val', 'test')]
    crops = {t.type: t.crop_size for p in pipes for t in p if 'crop_size' in t}
    assert crops == dict(RandomCrop=paper['crop'], CenterCrop=paper['crop'])
    assert [t.type for t in pipes[0]].index('RandomCrop') == 2  # after ResizeEdge
    assert any(t.type == 'RandomErasing' for t in pipes[0])
    assert cfg.model.backbone.img_size == paper['crop']
    for ds in leaf_datasets(cfg.train_dataloader.dataset) + leaf_datasets(
            cfg.test_dataloader.dataset):
        assert ds.ann_file.startswith(f'splits/{split}/')
    assert cfg.test_evaluator == dict(type='Accuracy', topk=(1, ))
    root, n_train = _fake_scene(tmp_path, dataset, split)
    cfg = shrink_common(cfg, root)
    cfg.model.backbone.img_size = 32
    cfg.model.head.in_channels = TINY_CHANNELS[-1]
    for pipe in pipes:
        for t in pipe:
            if t.type == 'ResizeEdge':
                t.scale = 40
            if 'crop_size' in t:
                t.crop_size = 32
    cfg.train_dataloader.batch_size = math.ceil(n_train / 2)  # 2 iterations
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.indices = 32  # a subset: Swin pads the small maps to windows
    cfg.train_cfg.max_epochs = 1
    return cfg


def _shrink_skysense(cfg, tmp_path, dataset, split, paper):
    """Sentinel configs: tiny SkySense, no weights, small images, fake data."""
    bb = cfg.model.backbone
    assert bb.type == 'eofm.SkySense' and bb.arch == 'huge'
    assert cfg.model.data_preprocessor.type == 'eofm.MultiModalDataPreprocessor'
    assert cfg.model.data_preprocessor.task == 'cls'
    assert len(cfg.model.data_preprocessor.normalize.s2.mean) == len(S2_BANDS)
    parts = [bb[m] for m in ('s2', 's1', 'fusion') if m in bb]
    parts += list(bb.get('up_heads', {}).values())
    for part in parts:
        assert part.init_cfg.checkpoint.startswith('checkpoints/skysense_model_')
        part.pop('init_cfg')
    bb.arch, bb.with_cp = 'tiny', False
    cfg.model.head.in_channels = 64  # the tiny ViT and fusion width
    loaders = [cfg[f'{s}_dataloader'] for s in ('train', 'val', 'test')]
    for pipe in [loader.dataset.pipeline for loader in loaders]:
        load = pipe[0]
        assert load.modalities.s2.bands == S2_BANDS
        for mod in load.modalities.values():
            assert mod.size == (paper['crop'], paper['crop'])
            mod.size = (16, 16)
        for t in pipe:
            if t.type == 'eofm.AlignedRandomResizedCrop':
                t.size = (16, 16)
            if t.type == 'eofm.TemporalSample':
                t.lengths = dict(s2=4)
    if dataset == 'fmow':
        assert bb.modalities == ('s2', ) and bb.get('use_fusion', True)
        assert bb.s2.drop_path_rate == bb.fusion.drop_path_rate == 0.2
        assert cfg.test_dataloader.dataset.split == 'val'
        bb.max_dates = dict(s2=4)
        root = tmp_path / 'fmow'
        make_fmow(root)
    else:
        assert cfg.test_dataloader.dataset.split_file == 'splits/val.csv'
        assert [e.type for e in cfg.test_evaluator
                ] == ['AveragePrecision', 'MultiLabelMetric']
        _check_multilabel_loss(cfg)
        if split == 's2':  # static single-modal: the encoder alone (Fig. K15 (a))
            assert bb.modalities == ('s2', ) and bb.use_fusion is False
        else:
            assert bb.modalities == ('s2', 's1')
            assert cfg.train_dataloader.dataset.type == 'eofm.BigEarthNetMM'
        root = tmp_path / 'ben'
        root.mkdir()
        make_bigearthnet(root)
    cpu_runtime(cfg, root)
    cfg.train_dataloader.batch_size = 2  # 2 training samples: 1 iteration an epoch
    cfg.train_cfg.max_epochs = 2
    return cfg


class _Snapshot(Hook):
    """Parameters after weight initialisation and after training."""

    def before_train(self, runner):
        self.before = {
            k: v.detach().clone()
            for k, v in runner.model.named_parameters()
        }

    def after_train(self, runner):
        self.after = {k: v.detach().clone() for k, v in runner.model.named_parameters()}


@pytest.mark.parametrize('name', list(CASES))
def test_skysense_classification_config(tmp_path, name):
    dataset, split, classes, paper = CASES[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    _check_paper_setup(name, cfg, classes, paper)
    frozen = 'frozen' in name
    if dataset in ('aid', 'resisc45'):
        assert cfg.model.backbone.drop_path_rate == (0.0 if frozen else 0.2)
        assert cfg.model.backbone.get('frozen_stages', -1) == (3 if frozen else -1)
        cfg = _shrink_scene(cfg, tmp_path, dataset, split, paper)
    else:
        cfg = _shrink_skysense(cfg, tmp_path, dataset, split, paper)
    layer_decay = cfg.optim_wrapper.get('constructor')
    assert layer_decay == (None if frozen else 'eofm.LayerDecayOptimWrapperConstructor')

    runner = build_runner(cfg)
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert runner.iter == 2
    metrics = runner.test()
    for key in METRICS[dataset]:
        assert_finite(metrics, key)

    head = {k for k in snap.before if k.startswith('head.')}
    assert head and all(not torch.equal(snap.before[k], snap.after[k]) for k in head)
    backbone = [k for k in snap.before if k.startswith('backbone.')]
    changed = [k for k in backbone if not torch.equal(snap.before[k], snap.after[k])]
    if frozen:
        assert not changed, changed[:5]
        assert not any(p.requires_grad for p in runner.model.backbone.parameters())
    else:
        assert changed
