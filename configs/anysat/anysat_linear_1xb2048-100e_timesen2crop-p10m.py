# AnySat fine-tuning on TimeSen2Crop (Astruc et al., CVPR 2025, supplementary Table
# B): single-label crop-type classification (16 classes) of Sentinel-2 L2A pixel
# series (Weikmann et al., IEEE JSTARS 2021; Austria - the AnySat paper says
# Slovenia). One pixel = a 10 m tile, a 1 x 1 grid of 10 m patches. Data layout:
# configs/_base_/datasets/timesen2crop.py (data/timesen2crop/: <tile>/dates.csv,
# <tile>/<class>/<pixel>.csv).
#
# The released encoder (checkpoints/AnySat.pth, keys without prefix) is fine-tuned
# end-to-end with one linear layer on the tile (cls) token (AnySat output='tile'),
# cross-entropy, AdamW lr 5e-5 (the paper's single learning rate; also the
# reference's TS2C_AnySat_FT experiment), linear warm-up + cosine annealing (its
# classification schedule), global batch 2048 (the reference's TS2C dataset
# config), early stopping on the validation OA with patience 10 (the reference's
# experiment).
#
# Modality: AnySat's 's2' time-series projector (10 bands with B8). TimeSen2Crop has
# 9 bands (no B8): eofm.ArrangeBands inserts B8 filled with the B8 normalisation
# mean, i.e. 0 after normalisation (the base config's b8_fill). Dates flagged
# cloud, shadow or snow are dropped (base config); days of year are those of the
# tile's dates.csv. Normalisation statistics in the base config are placeholders.
#
# Paper, supplementary Table B (TimeSen2Crop, overall accuracy): AnySat fine-tuned
# OA 92.2, linear probing OA 70.3. Metric here: 'accuracy/top1' (= OA).
# Assumed (not in the paper): the tile split (test: the 2018-2019 tile; val: the
# last 2017-2018 tile in name order; see the base config), 100 epochs at most, a
# plain linear layer (the reference's head has a LayerNorm before it), no temporal
# dropout (the reference's dataset drops 20 % of the dates in training).
_base_ = [
    '../_base_/datasets/timesen2crop.py',
    '../_base_/default_runtime_mmpretrain.py',
    '../_base_/schedules/anysat-cls_adamw-cosine-100e.py',
]
num_classes = 16
checkpoint = 'checkpoints/AnySat.pth'
patch_size = 10  # metres
embed_dim = 768  # AnySat base
batch_size = 2048

train_dataloader = dict(batch_size=batch_size)
val_dataloader = dict(batch_size=batch_size)
test_dataloader = dict(batch_size=batch_size)
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', task='cls', normalize=_base_.normalize),
    backbone=dict(
        type='eofm.AnySat',
        arch='base',
        modalities=['s2'],
        patch_size=patch_size,
        output='tile',  # the cls token, as the reference's classifier
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    neck=dict(type='eofm.TokensToMap', out_type='pooled'),  # (B, D) passes through
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=embed_dim,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=1,
        save_best='accuracy/top1',
        rule='greater'))
custom_hooks = [
    dict(
        type='EarlyStoppingHook', monitor='accuracy/top1', rule='greater', patience=10)
]
auto_scale_lr = dict(base_batch_size=batch_size)
