# AnySat fine-tuning on TreeSatAI-TS (Astruc et al., CVPR 2025, supplementary Table A):
# multi-label classification of 15 tree genera on 60 m tiles from the aerial image
# (NIR, G, B, R at 0.2 m), the Sentinel-2 series (10 bands) and the ascending
# Sentinel-1 series (VV, VH), all fused. Data layout: configs/_base_/datasets/
# treesatai_ts.py (data/treesatai_ts/: aerial/, sentinel-ts/, labels/, *_filenames.lst).
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end with one linear layer, binary cross-entropy, AdamW lr 5e-5 (the paper's
# single learning rate) with linear warm-up + cosine annealing (its classification
# schedule), 3 GPUs x 128 tiles (batch 384), patches of 10 m (TreeSatAI-TS takes 10 or
# 20 m): a 6 x 6 grid.
#
# Head input: the tile (cls) token (AnySat output='tile', (B, D)), as the reference's
# linear layer; output='patch' with TokensToMap(pool='mean') mean-pools the 36 patch
# tokens instead.
#
# Paper, supplementary Table A (TreeSatAI-TS, weighted F1): AnySat pretrained on
# GeoPlex 75.1, from scratch 72.7 (OmniSat 74.2): 'multi-label/f1-score_weighted'
# (eofm.WeightedMultiLabelMetric); macro and micro F1 and mAP beside it.
# The number of epochs is not given in the paper (100 here, an assumption).
_base_ = [
    '../_base_/datasets/treesatai_ts_60m.py',
    '../_base_/default_runtime_mmpretrain.py',
    '../_base_/schedules/anysat-cls_adamw-cosine-100e.py',
]
num_classes = 15
checkpoint = 'checkpoints/AnySat.pth'
patch_size = 10  # metres
embed_dim = 768  # AnySat base

# AnySat's modalities: aerial (4 ch, 0.2 m), s2 (10 ch), s1_asc -> 's1-asc' (2 ch);
# the tile, dates and statistics of the base dataset config.
val_evaluator = [
    dict(type='eofm.WeightedMultiLabelMetric', thr=0.5),
    dict(type='MultiLabelMetric', thr=0.5, average='macro'),
    dict(type='MultiLabelMetric', thr=0.5, average='micro'),
    dict(type='AveragePrecision'),
]
test_evaluator = val_evaluator

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', task='cls', normalize=_base_.normalize),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['aerial', 's2', 's1-asc'],
        patch_size=patch_size,
        output='tile',  # the cls token, as the reference's classifier
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='pooled'),  # (B, D) passes through
    head=dict(
        type='MultiLabelLinearClsHead',
        num_classes=num_classes,
        in_channels=embed_dim,
        loss=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best='multi-label/f1-score',
        rule='greater'))
# 3 GPUs x 128 tiles in the paper
auto_scale_lr = dict(base_batch_size=384)
