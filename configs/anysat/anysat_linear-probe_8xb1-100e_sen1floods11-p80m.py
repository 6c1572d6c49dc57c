# AnySat linear probing for Sen1Floods11 flood mapping (Astruc et al., CVPR 2025,
# supplementary Tables B and C): water / not water on the hand-labelled chips (512 x
# 512 px at 10 m, 5120 m tiles) from one Sentinel-2 L1C image (the ten bands of
# AnySat's 's2' projector: B2-B8, B8A, B11, B12 of the 13) and one Sentinel-1 image
# (VV, VH in dB plus the VV/VH ratio). Data layout: configs/_base_/datasets/
# sen1floods11.py (data/sen1floods11/v1.1/: data/flood_events/HandLabeled/{S1Hand,
# S2Hand,LabelHand}, splits/flood_handlabeled/flood_{train,valid,test}_data.csv);
# label -1 (no data) -> ignore index 255.
#
# Modalities -> AnySat's projectors: s2 -> 's2' (10 ch), s1 -> 's1' (3 ch). Both are
# time-series projectors: each image is a one-date series. ASSUMPTION (dates): the
# chips' acquisition dates are not in their names; every chip gets the placeholder
# date of the base config (`default_date`, 2019-01-01) unless `event_dates` gives
# the dates of its flood event (set it in the dataset config when you have them).
# The third S1 channel is eofm.AppendBandRatio(mode='difference'): VV - VH in dB,
# i.e. the VV/VH ratio in dB, the form of PASTIS-R's third channel on which the
# release's 's1' projector was pretrained (its mean is ~6.4 dB).
# Patches of 80 m (supplementary Table C: tile 5120 m, P = 80 m): a 64 x 64 grid of
# 8 x 8 pixels of 10 m per patch. The head is the paper's linear probe of 6.1K
# parameters (supplementary Table B, "linear 6.1K"): AnySat's 'dense' output
# (output='dense', dense_modality='s2': one token per 10-m S2 pixel, the token of
# its 80 m patch concatenated with its sub-patch token of the spatial transformer,
# (B, 512, 512, 2 x 768)), eofm.TokensToMap turns it into a (B, 1536, 512, 512) map
# and eofm.PatchLinearSegHead (norm='ln' + one linear layer 1536 -> 2 per pixel:
# 2 x 1536 + 1536 x 2 + 2 = 6146 parameters) classifies every pixel. The dense map
# is on the label grid (10 m, 512 x 512): no upsampling; norm='ln' is a LayerNorm of
# each token, as the paper's head. NOTE: the reference's
# Sen1Floods_AnySat_LP.yaml (gastruc/AnySat) sets the encoder scale to 1 (P = 10
# m); this config follows the paper's Table C.
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix,
# init_cfg=dict(type='Pretrained', checkpoint=checkpoint)) is frozen: every parameter
# under `backbone` has lr_mult = decay_mult = 0, so only the linear classifier
# learns. AdamW lr 5e-5 (the paper's single learning rate), ReduceLROnPlateau on the
# validation mIoU (its segmentation schedule). ASSUMPTIONS: 8 GPUs x 1 tile (the
# reference's Sen1Floods11 batch is not in its released configs; the setup of
# PASTIS-HD, whose 1280 m tiles at P = 40 m give a grid of the same order), 100
# epochs (the reference stops early on the validation mIoU, patience 10).
# Normalisation statistics are placeholders (see the base config).
#
# Paper, supplementary Table B (Sen1Floods11, mIoU): AnySat (linear 6.1K) 91.1.
_base_ = [
    '../_base_/datasets/sen1floods11.py',
    '../_base_/default_runtime_mmseg.py',
    '../_base_/schedules/anysat-seg_adamw-plateau-100e.py',
]
checkpoint = 'checkpoints/AnySat.pth'
num_classes = 2
ignore_index = 255
patch_size = 80  # metres
embed_dim = 768  # AnySat base

s1_ratio = dict(type='eofm.AppendBandRatio', modality='s1', mode='difference')
pack = dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1'])
train_pipeline = [{{_base_.load}}, {{_base_.remap}}, s1_ratio, pack]
test_pipeline = [{{_base_.load}}, {{_base_.remap}}, s1_ratio, pack]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=1, dataset=dict(pipeline=test_pipeline))

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(
            s2={{_base_.normalize.s2}}, s1={{_base_.normalize_s1_with_ratio}})),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s2', 's1'],
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

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=1,
        save_best='mIoU',
        rule='greater'))
# 8 GPUs x 1 tile (assumed)
auto_scale_lr = dict(enable=False, base_batch_size=8)
