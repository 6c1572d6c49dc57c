# OSCD multispectral urban change detection with SkySense's Sentinel-2 encoder and a
# U-Net decoder (paper Table 2c: OSCD F1 60.06; setup of supplementary K "Change
# Detection" and Table J13 (iv), following SeCo / CACo): one ViT-L (eofm.SkySenseViT,
# arch 'large', 10 bands B02-08, B8A, B11-12, patch 4) encodes both dates; four of its
# layers, brought to four scales (1/2, 1/4, 1/8, 1/16) by mmseg's MultiLevelNeck,
# give per-scale absolute differences that SeCo's U-Net decoder upsamples with skip
# connections to one change logit per pixel, trained with binary cross-entropy. Adam
# lr 6e-4, wd 1e-4, ExponentialLR (gamma 0.95 per epoch, SeCo's), batch 32, 100
# epochs, random flip + rotation on 96 x 96 px patches; F1 of the change class.
#
# Data: the three official OSCD archives unzipped as described in
# configs/_base_/datasets/oscd.py (data/oscd/), and the 96 px training patches made by
#   python tools/dataset_converters/oscd.py data/oscd --out-dir data/oscd_patches
# Evaluation predicts each whole test city with 96 px sliding windows (stride 96, the
# last window of a row / column flush with the edge), so every pixel is scored; the
# paper scores the 96 px patches of the test cities.
# Weights: put the release file skysense_model_backbone_s2.pth at checkpoints/ or
# change `checkpoint` below; the backbone's init_cfg loads it strictly (keys under
# `backbone.` or without a prefix; the date table `ctpe` is not needed here).
# SeCo trained only the decoder on a frozen encoder; to do so, add
# paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}).
_base_ = [
    '../_base_/datasets/oscd.py',
    '../_base_/default_runtime_eofm.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_s2.pth'
patch_size = (96, 96)
# The 10 bands of the S2 encoder, in its order (the base config loads all 13).
s2_bands = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']
# The base config's statistics of these bands (DN / 10000).
s2_stats = dict(
    mean=[
        v / 1e4 for v in (1374.3202, 1294.1616, 1325.6158, 1478.7408, 1933.0822,
                          2166.0608, 2076.4868, 2306.0652, 2080.3347, 1524.6930)
    ],
    std=[
        v / 1e4 for v in (83.4168, 105.6966, 151.1401, 147.4615, 115.9289, 123.1974,
                          114.6483, 141.4530, 213.4821, 179.4793)
    ])
normalize = dict(pre=s2_stats, post=s2_stats)

load_pair = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        pre=dict(bands=s2_bands, scale='reflectance'),
        post=dict(bands=s2_bands, scale='reflectance')),
    reference='pre',
    label_maps=dict(gt_change_map=dict(like='pre')))
binary_labels = dict(type='eofm.RemapLabelMap', key='gt_change_map', binary=True)
pack_pair = dict(type='eofm.PackMultiModalInputs', modalities=['pre', 'post'])
train_pipeline = [
    load_pair,
    binary_labels,
    # SeCo: horizontal flip with p = 0.5, rotation by 0 / 90 / 180 / 270 degrees
    dict(type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', )),
    dict(type='eofm.AlignedRandomRot90', prob=0.75),
    pack_pair,
]
test_pipeline = [load_pair, binary_labels, pack_pair]

model = dict(
    type='eofm.SiameseChangeDetector',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', normalize=normalize),
    keys=('pre', 'post'),
    backbone=dict(
        type='eofm.SkySenseViT',
        arch='large',
        in_channels=10,
        img_size=64,  # the release's positional grid, interpolated for 96 px
        patch_size=4,
        drop_path_rate=0.0,  # Table J13 (iv): no drop path
        out_indices=(7, 11, 15, 23),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    # 24 x 24 tokens of a 96 px patch -> 48, 24, 12 and 6 px maps
    neck=dict(
        type='mmseg.MultiLevelNeck',
        in_channels=[1024, 1024, 1024, 1024],
        out_channels=256,
        scales=[2, 1, 0.5, 0.25]),
    decode_head=dict(
        type='eofm.UNetChangeHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        fusion='diff',
        dropout_ratio=0.3,
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(
            type='mmseg.CrossEntropyLoss',
            use_sigmoid=True,
            loss_weight=1.0,
            avg_non_ignore=True)),
    test_cfg=dict(mode='slide', crop_size=patch_size, stride=(96, 96)))

train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='eofm.ChangeDetectionMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=6e-4, weight_decay=1e-4))
param_scheduler = [
    dict(type='ExponentialLR', gamma=0.95, by_epoch=True, begin=0, end=100)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True,
        interval=10,
        max_keep_ckpts=3,
        save_best='change/f1',
        rule='greater'))
log_processor = dict(by_epoch=True)
# 1 GPU x 32 patch pairs
auto_scale_lr = dict(enable=False, base_batch_size=32)
