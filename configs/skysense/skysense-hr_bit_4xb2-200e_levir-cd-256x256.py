# LEVIR-CD building change detection with SkySense's HR encoder in the BIT framework
# (paper Table 2c: LEVIR-CD F1 92.58; setup of supplementary K "Change Detection" and
# Table J13 (iv)): one Swin Transformer V2-H (eofm.SkySenseSwinV2, arch 'huge') encodes
# both dates, its four scales [352, 704, 1408, 2816] are fused into one 1/4-scale
# 32-d map, and BIT's head (semantic tokens, L = 4 per date; transformer encoder depth
# 1, decoder depth 8; |difference|; shallow conv classifier) gives 2-class logits
# trained with cross-entropy. AdamW lr 6e-5, wd 0.01, batch 8 (4 GPUs x 2), 200
# epochs, BIT's linear decay to 0, random crop 256 + flip + blur; F1 of the change
# class on the test split.
#
# Data: the official LEVIR-CD release (1024 x 1024 px pairs) laid out as described in
# configs/_base_/datasets/levir_cd.py (data/levir_cd/{train,val,test}/{A,B,label}/).
# BIT trains on the 16 non-overlapping 256 px patches of every image; here each epoch
# draws 16 random 256 px crops per training image (RepeatDataset times=16), the same
# number of samples per epoch, and the 1024 px test images are predicted with 256 px
# sliding windows (stride 256: exactly BIT's patch evaluation).
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or change `checkpoint`
# below; the backbone's init_cfg loads it strictly (only the fresh output norms of
# stages 0-2 stay as initialised).
_base_ = [
    '../_base_/datasets/levir_cd.py',
    '../_base_/default_runtime_eofm.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_hr.pth'
crop_size = (256, 256)
norm_cfg = dict(type='SyncBN', requires_grad=True)  # BN when not distributed

load_pair = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(pre=dict(scale='uint8'), post=dict(scale='uint8')),
    reference='pre',
    label_maps=dict(gt_change_map=dict(like='pre')))
binary_labels = dict(type='eofm.RemapLabelMap', key='gt_change_map', binary=True)
pack_pair = dict(type='eofm.PackMultiModalInputs', modalities=['pre', 'post'])
train_pipeline = [
    load_pair,
    binary_labels,
    dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='pre'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    # BIT blurs both dates with one radius in [0, 1] px; here each date draws its
    # own sigma.
    dict(type='eofm.RandomGaussianBlur', key='pre', sigma=(0.1, 1.0), prob=1.0),
    dict(type='eofm.RandomGaussianBlur', key='post', sigma=(0.1, 1.0), prob=1.0),
    pack_pair,
]
test_pipeline = [load_pair, binary_labels, pack_pair]

model = dict(
    type='eofm.SiameseChangeDetector',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor', normalize={{_base_.normalize}}),
    keys=('pre', 'post'),
    backbone=dict(
        type='eofm.SkySenseSwinV2',
        arch='huge',
        img_size=crop_size[0],
        in_channels=3,
        window_size=8,
        drop_path_rate=0.0,  # Table J13 (iv): no drop path
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    decode_head=dict(
        type='eofm.BITHead',
        in_channels=[352, 704, 1408, 2816],
        in_index=[0, 1, 2, 3],
        channels=32,
        token_len=4,
        enc_depth=1,
        dec_depth=8,
        num_heads=8,
        enc_head_dims=64,
        dec_head_dims=8,
        norm_cfg=norm_cfg,
        loss_decode=dict(
            type='mmseg.CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=1.0,
            avg_non_ignore=True)),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(256, 256)))

train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=16,
        dataset=dict(
            type='eofm.LEVIRCD',
            data_root='data/levir_cd/',
            split='train',
            pipeline=train_pipeline)))
val_dataloader = dict(batch_size=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=2, dataset=dict(pipeline=test_pipeline))
val_evaluator = dict(type='eofm.ChangeDetectionMetric')
test_evaluator = val_evaluator

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks (the rule of the
# SkySense release's downstream configs); the BIT head keeps the base lr.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
# BIT's LambdaLR multiplies the lr by 1 - epoch / (max_epochs + 1) after every epoch:
# a linear decay to ~0, which mmengine's PolyLR with power 1.0 stepped by epoch is
# (1 - epoch / max_epochs).
param_scheduler = [
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=True, begin=0, end=200)
]
# BIT validates every epoch and keeps the best checkpoint on the val split.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=50, log_metric_by_epoch=True),
    checkpoint=dict(
        by_epoch=True,
        interval=10,
        max_keep_ckpts=3,
        save_best='change/f1',
        rule='greater'))
log_processor = dict(by_epoch=True)
# 4 GPUs x 2 pairs; `--auto-scale-lr` rescales lr for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=8)
