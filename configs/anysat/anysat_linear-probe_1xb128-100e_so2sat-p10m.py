# AnySat linear probing on So2Sat LCZ42 (Astruc et al., CVPR 2025, supplementary
# Table B): single-label classification of 17 local climate zones on 320 m tiles (32 x
# 32 px at 10 m) from one Sentinel-2 image (10 bands) and one Sentinel-1 image, fused.
# Data layout: configs/_base_/datasets/so2sat.py (data/so2sat/: training.h5,
# validation.h5, testing.h5 with sen1, sen2, label).
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is frozen; one
# linear layer on the tile (cls) token (AnySat output='tile', (B, D)) is trained with
# cross-entropy, AdamW lr 5e-5 (the paper's single learning rate), linear warm-up +
# cosine annealing (its classification schedule), patches of 10 m: a 32 x 32 grid.
# Freezing: every parameter under `backbone` gets lr and weight decay 0 (mmengine's
# paramwise_cfg custom_keys), so AdamW leaves the encoder exactly as loaded (it has no
# batch-norm statistics).
#
# Modalities: AnySat's 's2' (10 bands, a time-series projector) and 's1' (3 channels,
# VV, VH, VV/VH in dB as PASTIS-R). So2Sat has one S2 and one S1 image and no dates:
# each is a one-date series on the placeholder date 2017-07-01 (day of year 182;
# dataset argument `date`). S1 = the Lee-filtered VV and VH intensities converted
# to dB plus eofm.AppendBandRatio(mode='difference') (the ratio in dB, VV - VH);
# the unfiltered SLC and covariance channels are not used. Normalisation statistics
# in the base config are placeholders (see there).
#
# Paper, supplementary Table B (So2Sat, overall accuracy): "AnySat (linear 29k)"
# OA 59.1: linear probing only, the paper has no fine-tuning number for So2Sat.
# Metric here: 'accuracy/top1' (= OA). Assumed (not in the paper): the split files
# (train training.h5, val validation.h5, test testing.h5), 100 epochs, batch 128 on
# one GPU, and a plain linear layer (the reference's head has a LayerNorm before it).
_base_ = [
    '../_base_/datasets/so2sat.py',
    '../_base_/default_runtime_mmpretrain.py',
    '../_base_/schedules/anysat-cls_adamw-cosine-100e.py',
]
num_classes = 17
checkpoint = 'checkpoints/AnySat.pth'
patch_size = 10  # metres
embed_dim = 768  # AnySat base

val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', task='cls', normalize=_base_.normalize),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s2', 's1'],
        patch_size=patch_size,
        output='tile',  # the cls token, as the reference's classifier
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='pooled'),  # (B, D) passes through
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=embed_dim,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best='accuracy/top1',
        rule='greater'))
auto_scale_lr = dict(base_batch_size=128)
