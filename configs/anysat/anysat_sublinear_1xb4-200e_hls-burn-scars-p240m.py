# AnySat fine-tuning for HLS Burn Scars (Astruc et al., CVPR 2025, supplementary
# Tables B and C): burn scar / not burned on 512 x 512 px Harmonized
# Landsat-Sentinel-2 scenes at 30 m (15,360 m tiles), 6 bands (Blue, Green, Red, NIR
# narrow, SWIR 1, SWIR 2). Data layout: configs/_base_/datasets/hls_burn_scars.py
# (data/hls_burn_scars/: training/, validation/ with *_merged.tif and their masks;
# validation is also the test set); mask -1 (no data) -> ignore index 255.
#
# Modality: HLS is not one of the 11 modalities of the release. It is declared as a
# new modality `hls` through the backbone's `modalities` dict: a one-date series
# (kind='series', 6 channels, 30 m), like the release's Landsat 7 projector ('l7':
# L-TAE over the dates, 6 channels at 30 m), dated by the scene name's day of year.
# An image projector cannot take it at this patch size: 8 px per 240 m patch is not
# a multiple of AnySat's 24 10-m cells per patch side. The `hls` projector is
# trained from scratch; everything else loads checkpoints/AnySat.pth
# (init_cfg=dict(type='Pretrained', checkpoint=checkpoint)).
# KNOWN LIMITATION: eofm.AnySat.init_weights currently refuses a release file that
# lacks the projector of a built modality (PretrainedMismatchError listing the
# missing projector_hls.* keys), so this config does not load the release weights
# until AnySat's loading allows new-modality projectors to stay at their
# initialisation.
#
# Patches of 240 m (Table C; the reference's BurnScars_AnySat_FT.yaml: scale 24,
# 8 px per patch): a 64 x 64 grid of 8 x 8 HLS pixels per patch. AnySat gives its
# default 'patch' output; eofm.TokensToMap makes a (B, D, 64, 64) map and
# eofm.SubPatchLinearSegHead classifies the 8 x 8 30-m pixels of every patch with
# one linear layer (the paper's head is linear per sub-patch on the 'dense' output).
#
# Fine-tuned end-to-end: AdamW lr 5e-5, ReduceLROnPlateau on the validation mIoU;
# 200 epochs and a global batch of 4 as the reference's BurnScars_AnySat_FT.yaml
# (one GPU assumed). HLS is normalised with the dataset's reference statistics (base
# config).
#
# Paper, supplementary Table B (HLS Burn Scars, mIoU): AnySat fine-tuned 90.6
# (linear probing 87.7: anysat_sublinear-probe_1xb4-200e_hls-burn-scars-p240m.py).
_base_ = [
    '../_base_/datasets/hls_burn_scars.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 2
ignore_index = 255
patch_size = 240  # metres
embed_dim = 768  # AnySat base
max_epochs = 200
# The new modality: a one-date series at 30 m, 6 bands (the release's 'l7' spec).
hls_modality = dict(
    kind='series', in_channels=6, gsd=30, T=367, dropout=0.2, in_norm=False)

train_dataloader = dict(batch_size=4)
val_dataloader = dict(batch_size=4)
test_dataloader = val_dataloader

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize={{_base_.normalize}}),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=dict(hls=hls_modality),
        patch_size=patch_size,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='map'),
    decode_head=dict(
        type='eofm.SubPatchLinearSegHead',
        in_channels=embed_dim,
        num_classes=num_classes,
        scale=8,
        ignore_index=ignore_index),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=ignore_index),
]
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='mIoU',
        rule='greater'))
# global batch 4 in the reference
auto_scale_lr = dict(enable=False, base_batch_size=4)
