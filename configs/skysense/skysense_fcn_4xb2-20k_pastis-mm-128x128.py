# Time-sensitive crop mapping on PASTIS-MM (paper Table 4b (v): S2-Ts + S1-Ts + GEP,
# OA 85.9 over the official five folds; setup Table J14 (ii)): the whole SkySense
# backbone on the Sentinel-2 series (10 bands), the ascending Sentinel-1 series (VV,
# VH) and the static high-resolution RGB image (4096 x 4096 px, ~0.3 m, for a 128 x
# 128 px Sentinel patch: the release's 4 x up heads put both on a 128 x 128 grid),
# fused by the multi-modal temporal fusion, and a plain FCN head on F_fus; AdamW lr
# 6e-5, wd 0.01, poly with a 1.5k-iteration warmup from 1e-6, drop path 0.3, 20k
# iterations at batch 8, random flips. 19 classes (background + 18 crops); the void
# label 19 is ignored.
#
# The 5-fold protocol: this config trains on folds 1-3, validates on 4 and tests on
# 5. Rotate the folds for the other four runs, e.g.
#   tools/dist_train.sh CONFIG 4 --work-dir work_dirs/pastis_mm_test1 --cfg-options \
#       train_dataloader.dataset.folds=[2,3,4] val_dataloader.dataset.folds=[5] \
#       test_dataloader.dataset.folds=[1]
# Each test run writes its fold's confusion matrix (fold_confusion.json in the run's
# log folder); pool the five with
#   python tools/analysis_tools/merge_fold_results.py work_dirs/pastis_mm_test*/*/fold_confusion.json
# (OA over all folds, mean +- std of the per-fold OA, mIoU).
#
# Data: PASTIS-R's layout plus the HR images (configs/_base_/datasets/pastis_mm.py).
# Weights: the six release files merged into checkpoints/skysense_eofm.pth by
#   python tools/model_converters/skysense2eofm.py merge RELEASE_DIR \
#       checkpoints/skysense_eofm.pth
_base_ = [
    '../_base_/datasets/pastis_mm.py',
    '../_base_/schedules/skysense-seg_adamw-ld0.9_poly-80k.py',
    '../_base_/default_runtime_mmseg.py',
]
checkpoint = 'checkpoints/skysense_eofm.pth'
num_classes = 19
void_class = 19
hr_size = (4096, 4096)
num_dates = 50

modalities = dict(
    s2=dict(scale='reflectance'),
    s1_asc=dict(bands=['VV', 'VH']),
    hr=dict(scale='uint8', size=hr_size))
lengths = dict(s2=num_dates, s1_asc=num_dates)
meta_keys = ('sample_id', 'geo', 'modalities_present', 'fold')
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.RenameModality', src='s1_asc', dst='s1'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    dict(
        type='eofm.PackMultiModalInputs',
        modalities=['hr', 's2', 's1'],
        meta_keys=meta_keys),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.RenameModality', src='s1_asc', dst='s1'),
    dict(
        type='eofm.PackMultiModalInputs',
        modalities=['hr', 's2', 's1'],
        meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=test_pipeline))

norm_cfg = dict(type='SyncBN', requires_grad=True)  # BN when not distributed
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(
            s2={{_base_.normalize.s2}},
            s1=dict(mean=[-10.93095, -17.34851], std=[3.28597, 3.21295]),
            hr=dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))),
    backbone=dict(
        type='eofm.SkySense',
        arch='huge',
        modalities=('hr', 's2', 's1'),
        max_dates=dict(s2=num_dates, s1=num_dates),
        with_cp=True,
        hr=dict(drop_path_rate=0.3),
        s2=dict(drop_path_rate=0.3),
        s1=dict(drop_path_rate=0.3),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    decode_head=dict(
        type='FCNHead',
        in_channels=1024,
        channels=256,
        num_convs=2,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=num_classes,
        ignore_index=void_class,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

val_evaluator = [
    dict(type='eofm.FoldAccuracyMetric', num_classes=num_classes),
    dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=void_class),
]
test_evaluator = [
    dict(
        type='eofm.FoldAccuracyMetric',
        num_classes=num_classes,
        out_file='fold_confusion.json'),
    dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=void_class),
]

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=20000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2000))
# 4 GPUs x 2 images = the paper's batch 8
auto_scale_lr = dict(enable=False, base_batch_size=8)
