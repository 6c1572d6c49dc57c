# BigEarthNet-MM 19-class multi-label classification from Sentinel-2 + Sentinel-1,
# SkySense's two Sentinel encoders and its multi-modal temporal fusion fine-tuned
# with a linear classifier.
# Paper: Table 4 (c) (ii), BEN-MM S2 + S1 mAP 92.21 (fine-tuning, 100 % of the
# training data, DeCUR's protocol). Setup of Table J14 (iii): AdamW, lr 5e-5, weight
# decay 0.01, batch 256, 100 epochs, MultiStepLR, no warm-up, no drop path, 128 x
# 128 px Sentinel-2 (B02-B08, B8A, B11, B12) and Sentinel-1 (VV, VH), RandomFlip,
# linear classifier, MultiLabelSoftMargin loss.
#
# Model: eofm.SkySense(modalities=('s2', 's1')) (Fig. K15 (c)): g_Ms and g_SAR (ViT-L),
# their up heads onto the 2816-d token grid and the fusion transformer, whose
# per-location sequence is [cls, S2 token, S1 token]; the fused (B, 1024, 128, 128)
# map -> GlobalAveragePooling -> MultiLabelLinearClsHead (1024 -> 19). Both patches
# are single-date (static) modalities: no day of year, so no date encoding. The
# geo-context module is off (its prototypes were never released).
#
# Loss and metrics as the BEN-S2 config (skysense-s2_linear_8xb32-100e_bigearthnet-
# s2-128px.py): CrossEntropyLoss(use_sigmoid=True) with loss_weight 1 / 19 equals
# torch.nn.MultiLabelSoftMarginLoss under MultiLabelLinearClsHead (which averages
# over the batch only); mmpretrain AveragePrecision ('multi-label/mAP') and
# MultiLabelMetric (thr 0.5). Choices the paper leaves open, as there: MultiStepLR
# milestones [60, 80], bilinear resampling of the 120 px patches to 128 px,
# horizontal flips (both modalities together), layer-wise lr decay 0.9 on the ViT
# encoders (the up heads, fusion and head keep the base lr).
#
# Cost: the release's up heads enlarge the 32 x 32 ViT grid of a 128 px patch 4x, so
# the 24-layer fusion runs on 128 x 128 locations (3 tokens each) per sample;
# activation checkpointing is on (with_cp). If 32 samples per GPU do not fit, lower
# train_dataloader.batch_size and set optim_wrapper.accumulative_counts so that
# GPUs x batch x accumulation = 256.
#
# Data (configs/_base_/datasets/bigearthnet_mm.py): the BigEarthNet-S2 layout plus
# data/bigearthnet/BigEarthNet-S1-v1.0/<S1 patch>/<S1 patch>_VV.tif, _VH.tif, and
# split CSVs pairing "<S2 patch>,<S1 patch>"; the paper takes the BEN-S2 splits
# (311,667 training / 103,944 validation patches) and reports on the validation
# split, so testing reads splits/val.csv.
# Weights (the release files, under checkpoints/): skysense_model_backbone_s2.pth,
# skysense_model_backbone_s1.pth, skysense_model_head_s2.pth,
# skysense_model_head_s1.pth, skysense_model_fusion.pth.
# Batch: 8 GPUs x 32 = 256.
_base_ = [
    '../_base_/datasets/bigearthnet_mm.py',
    '../_base_/default_runtime_mmpretrain.py',
]
num_classes = 19
crop_size = (128, 128)
ckpt = 'checkpoints/skysense_model_{}.pth'

s2_bands = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']
_idx = [_base_.s2_bands.index(b) for b in s2_bands]
normalize = dict(
    s2=dict(
        mean=[_base_.normalize.s2.mean[i] for i in _idx],
        std=[_base_.normalize.s2.std[i] for i in _idx]),
    s1=_base_.normalize.s1)

_load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        s2=dict(bands=s2_bands, scale='reflectance', size=crop_size),
        s1=dict(bands=['VV', 'VH'], scale='none', size=crop_size)),
    reference='s2')
train_pipeline = [
    _load,
    dict(type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', )),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
test_pipeline = [
    _load,
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, dataset=dict(split_file='splits/val.csv', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64, dataset=dict(split_file='splits/val.csv', pipeline=test_pipeline))
val_evaluator = [
    dict(type='AveragePrecision'),
    dict(type='MultiLabelMetric', thr=0.5, average='macro'),
]
test_evaluator = val_evaluator

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', task='cls', normalize=normalize),
    backbone=dict(
        type='eofm.SkySense',
        arch='huge',
        modalities=('s2', 's1'),
        with_cp=True,
        s2=dict(
            drop_path_rate=0.0,
            init_cfg=dict(type='Pretrained', checkpoint=ckpt.format('backbone_s2'))),
        s1=dict(
            drop_path_rate=0.0,
            init_cfg=dict(type='Pretrained', checkpoint=ckpt.format('backbone_s1'))),
        up_heads=dict(
            s2=dict(
                init_cfg=dict(type='Pretrained', checkpoint=ckpt.format('head_s2'))),
            s1=dict(
                init_cfg=dict(type='Pretrained', checkpoint=ckpt.format('head_s1')))),
        fusion=dict(
            drop_path_rate=0.0,
            init_cfg=dict(type='Pretrained', checkpoint=ckpt.format('fusion')))),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=num_classes,
        in_channels=1024,
        loss=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0 / num_classes)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
