# AnySat fine-tuning for FLAIR #2 semantic segmentation (Astruc et al., CVPR 2025,
# supplementary Table A): 13 land-cover classes (12 + "other") of the 0.2 m aerial
# patches from the aerial image (R, G, B, NIR, elevation) and the Sentinel-2 series
# around it. Data layout: configs/_base_/datasets/flair.py (data/flair/:
# flair_aerial_train, flair_labels_train, flair_sen_train, flair_2_*_test,
# flair-2_centroids_sp_to_patch.json); validation on the test split as the base.
#
# Modalities -> AnySat's projectors: aerial (5 ch, 0.2 m) -> 'aerial-flair' (renamed
# to aerial_flair in the pipeline; eofm.AnySat reads it as 'aerial-flair'), s2 -> 's2'.
# A FLAIR patch is 512 px = 102.4 m, which no AnySat patch size divides (FLAIR takes
# 10, 20 or 50 m): the aerial image and its labels are cut to the centred 500 px
# (100 m; eofm.AlignedCenterCrop, a random 500 px window in training) and the
# Sentinel-2 window to the 10 x 10 px (100 m) around the patch's centroid, the
# reference's crop_s2 (OmniSat's FLAIR loader, X - 5 : X + 5).
# Patches of 10 m: a 10 x 10 grid, 5 x 5 aerial sub-patches of 2 m per patch.
# EncoderDecoder calls the backbone with the inputs only, so AnySat gives its default
# 'patch' output; eofm.TokensToMap makes a (B, D, 10, 10) map and
# eofm.SubPatchLinearSegHead classifies the 5 x 5 2-m sub-patches of every patch
# linearly (nearest-upsampled to the 500 x 500 labels; the paper's head is linear per
# 10 x 10 px sub-patch on the 'dense' output).
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end: AdamW lr 5e-5 (the paper's single learning rate), ReduceLROnPlateau on
# the validation mIoU (its segmentation schedule), 3 GPUs x 32 patches (batch 96). At
# most 50 Sentinel-2 dates (the reference's cap). The number of epochs is not given in
# the paper (100 here, an assumption). Sentinel-2 reflectances are not normalised
# (AnySat's Sentinel-2 projector normalises its input with a GroupNorm).
#
# Paper, supplementary Table A (FLAIR semantic segmentation, mIoU): AnySat pretrained
# on GeoPlex 55.1, from scratch 55.6. The FLAIR #2 benchmark averages the IoU over
# the 12 classes without "other"; IoUMetric below averages all 13 (the per-class
# IoUs are in its table).
_base_ = [
    '../_base_/datasets/flair.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 13
patch_size = 10  # metres
embed_dim = 768  # AnySat base
num_dates = 50
crop_size = 500  # aerial px: 100 m

load_aerial = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(aerial=dict(bands={{_base_.aerial_bands}}, scale='uint8')),
    label_maps=dict(gt_seg_map=dict(like='aerial')))
load_s2 = dict(type='eofm.LoadFLAIR2Sentinel', size=10, scale='reflectance')
remap = dict(
    type='eofm.RemapLabelMap', key='gt_seg_map', lut={{_base_.flair_lut}}, default=12)
rename = dict(type='eofm.RenameModality', src='aerial', dst='aerial_flair')
pack = dict(type='eofm.PackMultiModalInputs', modalities=['aerial_flair', 's2'])
train_pipeline = [
    load_aerial,
    dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='aerial'),
    load_s2,
    dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='random'),
    remap,
    rename,
    pack,
]
test_pipeline = [
    load_aerial,
    dict(type='eofm.AlignedCenterCrop', size=crop_size, reference='aerial'),
    load_s2,
    dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='even'),
    remap,
    rename,
    pack,
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(aerial_flair={{_base_.normalize.aerial}})),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['aerial-flair', 's2'],
        patch_size=patch_size,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='map'),
    decode_head=dict(
        type='eofm.SubPatchLinearSegHead',
        in_channels=embed_dim,
        num_classes=num_classes,
        scale=5),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='mIoU',
        rule='greater'))
# 3 GPUs x 32 patches in the paper
auto_scale_lr = dict(enable=False, base_batch_size=96)
