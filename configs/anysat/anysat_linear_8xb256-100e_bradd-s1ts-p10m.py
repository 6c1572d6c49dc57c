# AnySat fine-tuning for BraDD-S1TS deforestation detection (Astruc et al., CVPR
# 2025, supplementary Tables B and C): pixel-wise deforestation between the first and
# the last image of a Sentinel-1 series (20-66 dates, VV and VH in dB) on tiles of
# 48 x 48 px at 10 m (480 m). Data layout: configs/_base_/datasets/bradd_s1ts.py.
# ASSUMED LAYOUT: the release's file layout is not documented in a source we could
# rely on; eofm.BraDDS1TS reads {train,val,test}/<tile_id>/{s1.npy, dates.txt,
# mask.npy} (see eofm/datasets/bradd_s1ts.py). Convert the release to it, or set the
# dataset's pattern arguments (split_dirs, series_file, dates_file, mask_file,
# series_axes, mask_axes) in the three loaders.
#
# Modality -> AnySat's projector: s1 (VV, VH + eofm.AppendBandRatio(mode=
# 'difference'): VV - VH in dB, i.e. the VV/VH ratio in dB, the form of PASTIS-R's
# third channel on which the release's 's1' projector was pretrained) -> 's1' (3 ch).
# Every date of a series is kept (the data preprocessor pads a batch to its longest
# series and masks the padding; the reference also drops dates at random in
# training, temporal_dropout 0.5, which is not reproduced).
# Patches of 10 m (Table C; the reference's BraDD_AnySat_FT.yaml: scale 1): one
# Sentinel-1 pixel per patch, a 48 x 48 grid. The head is the paper's linear one of
# 6.1K parameters (supplementary Table B): AnySat's 'dense' output (output='dense',
# dense_modality='s1': per 10-m pixel its patch token concatenated with its
# sub-patch token of the spatial transformer, (B, 48, 48, 2 x 768)),
# eofm.TokensToMap makes a (B, 1536, 48, 48) map and eofm.PatchLinearSegHead
# (norm='ln' + one linear layer 1536 -> 2 per pixel: 6146 parameters) classifies
# every pixel. The dense map is on the label grid (10 m): no upsampling; norm='ln'
# is a LayerNorm of each token, as the paper's head.
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end: AdamW lr 5e-5, ReduceLROnPlateau on the validation mIoU. Global batch
# 2048 as the reference's BraDD.yaml (8 GPUs x 256 assumed). ASSUMPTION: 100 epochs
# (the reference stops early on the validation IoU, patience 10). Normalisation
# statistics are placeholders (see the base config).
#
# Paper, supplementary Table B (BraDD-S1TS, mIoU): AnySat fine-tuned 80.9 (linear
# probing 78.9: anysat_linear-probe_8xb256-100e_bradd-s1ts-p10m.py).
_base_ = [
    '../_base_/datasets/bradd_s1ts.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 2
ignore_index = 255
patch_size = 10  # metres
embed_dim = 768  # AnySat base

pipeline = [
    {{_base_.load}},
    {{_base_.remap}},
    dict(type='eofm.AppendBandRatio', modality='s1', mode='difference'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s1']),
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=pipeline))
val_dataloader = dict(batch_size=256, dataset=dict(pipeline=pipeline))
test_dataloader = dict(batch_size=256, dataset=dict(pipeline=pipeline))

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(s1={{_base_.normalize_s1_with_ratio}})),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s1'],
        patch_size=patch_size,
        output='dense',
        dense_modality='s1',
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
# global batch 2048 in the reference
auto_scale_lr = dict(enable=False, base_batch_size=2048)
