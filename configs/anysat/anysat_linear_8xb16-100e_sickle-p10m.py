# AnySat fine-tuning for SICKLE paddy / non-paddy segmentation (Astruc et al., CVPR
# 2025, supplementary Table B): 320 m tiles in the Cauvery Delta, labels on the 10 m
# grid (32 x 32), from the Sentinel-2 (10 bands), Sentinel-1 (VV, VH, VV/VH) and
# Landsat 8 series, fused. Data layout: configs/_base_/datasets/sickle.py
# (data/sickle/: sickle_dataset_tabular.csv, images/{S2,S1,L8}/npy/<uid>/*.npz,
# masks/10m/<uid>.tif). Labels 0 paddy, 1 non-paddy, 255 ignored (outside plots and
# plots of other splits). Evaluated on the validation split (test labels are not
# released; the test loader reads 'val' too).
#
# Modalities -> AnySat's projectors: s2 -> 's2' (10 ch in the reference's order B2,
# B3, B4, B5, B6, B7, B8A, B8, B11, B12: B8A before B8, as the reference feeds them),
# s1 (VV, VH + ratio) -> 's1' (3 ch), l8 -> 'l8' (11 ch, 10 m grid): the eight SICKLE
# bands in the reference's layout [0, SR_B1 ... SR_B7, 0, ST_B10, 0]
# (eofm.ArrangeBands; the reference also masks the three zero channels per channel,
# eofm's masks are per pixel and date). Series of 13-148 dates are sampled to 50
# (random in training, evenly spaced in evaluation; shorter ones padded and masked;
# the reference takes every date).
# Patches of 10 m (Table C): one pixel per patch, a 32 x 32 grid. The head is the
# paper's linear one of 6.1K parameters (supplementary Table B): EncoderDecoder calls
# the backbone with the inputs only, so AnySat gives its default output, here
# output='dense' with dense_modality='s2' (per 10-m pixel its patch token, which
# fuses the three series, concatenated with the S2 sub-patch token of the spatial
# transformer: (B, 32, 32, 2 x 768)); eofm.TokensToMap makes a (B, 1536, 32, 32) map
# and eofm.PatchLinearSegHead (norm='ln' + one linear layer 1536 -> 2 per pixel:
# 6146 parameters) classifies every pixel. The dense map is on the label grid (10
# m): no upsampling; norm='ln' is a LayerNorm of each token, as the paper's head.
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end: AdamW lr 5e-5 (the paper's single learning rate), ReduceLROnPlateau (its
# segmentation schedule) on the validation mIoU. Assumptions: 8 GPUs x 16 tiles (the
# paper gives no batch size for SICKLE), 100 epochs (none given; the reference stops
# early on the validation IoU). Normalisation statistics are PLACEHOLDERS (mean 0,
# std 1) to recompute over the training split.
#
# Paper, supplementary Table B (SICKLE, mIoU): AnySat fine-tuned 89.3 (linear probing
# 82.0, anysat_linear-probe_8xb16-100e_sickle-p10m.py).
_base_ = [
    '../_base_/datasets/sickle.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 2
ignore_index = 255
patch_size = 10  # metres
embed_dim = 768  # AnySat base

l8_sickle = ['SR_B1', 'SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7', 'ST_B10']
l8_anysat = [
    'zero0', 'SR_B1', 'SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7', 'zero8',
    'ST_B10', 'zero10'
]
used = ['s2', 's1', 'l8']
anysat_steps = [
    dict(type='eofm.AppendBandRatio', modality='s1'),
    dict(type='eofm.ArrangeBands', modality='l8', src=l8_sickle, dst=l8_anysat),
]
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=_base_.modalities,
        reference='s2',
        label_maps=_base_.label_maps),
    dict(type='eofm.SICKLECropTypeMap', ignore_index=ignore_index),
    dict(type='eofm.TemporalSample', lengths=_base_.lengths, mode='random'),
    *anysat_steps,
    dict(type='eofm.PackMultiModalInputs', modalities=used),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=_base_.modalities,
        reference='s2',
        label_maps=_base_.label_maps),
    dict(type='eofm.SICKLECropTypeMap', ignore_index=ignore_index),
    dict(type='eofm.TemporalSample', lengths=_base_.lengths, mode='even'),
    *anysat_steps,
    dict(type='eofm.PackMultiModalInputs', modalities=used),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# PLACEHOLDERS to recompute over the training split (see the base config); the
# ratio channel of s1 and the three zero channels of l8 included.
normalize = dict(
    s2=dict(mean=[0.0] * 10, std=[1.0] * 10),
    s1=dict(mean=[0.0] * 3, std=[1.0] * 3),
    l8=dict(mean=[0.0] * 11, std=[1.0] * 11))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', task='seg', normalize=normalize),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s2', 's1', 'l8'],
        patch_size=patch_size,
        output='dense',
        dense_modality='s2',
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='map'),
    decode_head=dict(
        type='eofm.PatchLinearSegHead',
        in_channels=2 * embed_dim,
        num_classes=num_classes,
        norm='ln',
        ignore_index=ignore_index),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=ignore_index),
]
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='mIoU',
        rule='greater'))
# 8 GPUs x 16 tiles (an assumption)
auto_scale_lr = dict(enable=False, base_batch_size=128)
