# AnySat fine-tuning for PASTIS-HD semantic segmentation (Astruc et al., CVPR 2025,
# supplementary Table A): 18 crop types + background on 1280 m tiles, labels on the
# 10 m Sentinel-2 grid (128 x 128), from the SPOT 6-7 image (R, G, B at 1 m), the
# Sentinel-2 series (10 bands) and the ascending Sentinel-1 series (VV, VH, VV/VH;
# the paper uses the ascending orbit only). Data layout: configs/_base_/datasets/
# pastis_hd.py (data/pastis_hd/: DATA_S2, DATA_S1A, ANNOTATIONS, DATA_SPOT, metadata);
# folds 1-3 train, 4 validate, 5 test.
#
# Modalities -> AnySat's projectors: s2 -> 's2' (10 ch), s1_asc (3 ch) -> 's1'
# (the release's 3-channel Sentinel-1; its 's1-asc' has 2 channels), spot -> 'spot'
# (3 ch, 1 m, 10 px sub-patches).
# Patches of 40 m (the reference's fine-tuning patch size for PASTIS): a 32 x 32 grid,
# 4 x 4 Sentinel-2 pixels / SPOT sub-patches per patch. EncoderDecoder calls the
# backbone with the inputs only, so AnySat gives its default 'patch' output
# (B, 32, 32, D); eofm.TokensToMap makes a (B, D, 32, 32) map and
# eofm.SubPatchLinearSegHead classifies the 4 x 4 10-m cells of every patch with one
# linear layer (the paper's head is linear per sub-patch on the 'dense' output, which
# also concatenates the sub-patch tokens of the spatial transformer).
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end: AdamW lr 5e-5 (the paper's single learning rate), ReduceLROnPlateau (its
# segmentation schedule) on the validation mIoU, 8 GPUs x 1 tile (batch 8). The number
# of epochs is not given in the paper (100 here, an assumption). SPOT is normalised
# with ImageNet statistics (the release gives none).
#
# Paper, supplementary Table A (PASTIS-HD semantic segmentation): AnySat pretrained on
# GeoPlex OA 85.0, mIoU 66.5; from scratch OA 84.8, mIoU 66.3.
_base_ = [
    '../_base_/datasets/pastis_hd.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 19  # background + 18 crop types; 19 is the void label
void_class = 19
patch_size = 40  # metres
embed_dim = 768  # AnySat base
num_dates = 50

modalities = dict(s2=dict(scale='reflectance'), s1_asc=dict(), spot=dict(scale='uint8'))
lengths = dict(s2=num_dates, s1_asc=num_dates)
used = ['s2', 's1', 'spot']
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.RenameModality', src='s1_asc', dst='s1'),
    dict(type='eofm.PackMultiModalInputs', modalities=used),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.RenameModality', src='s1_asc', dst='s1'),
    dict(type='eofm.PackMultiModalInputs', modalities=used),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(
            s2={{_base_.normalize.s2}},
            s1={{_base_.normalize.s1_asc}},
            spot=dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s2', 's1', 'spot'],
        patch_size=patch_size,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='map'),
    decode_head=dict(
        type='eofm.SubPatchLinearSegHead',
        in_channels=embed_dim,
        num_classes=num_classes,
        scale=4,
        ignore_index=void_class),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=void_class),
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
# 8 GPUs x 1 tile in the paper
auto_scale_lr = dict(enable=False, base_batch_size=8)
