# ISPRS Vaihingen RGB (IRRG) + DSM semantic segmentation with msGFM and UperNet.
# Paper: Han et al., CVPR 2024, Table 3, msGFM: mIoU 75.8 (Tables 5 / 6, 100-epoch
# pretraining ablations: 74.8 from scratch, 74.4 with MoE + cross-sensor). Sec.
# 4.2.4: "the experiment settings are the same as [GFM]"; Table 2 lists DSM / RGB
# as the sensors.
#
# Model: mmseg EncoderDecoder; eofm.MultiModalDataPreprocessor(task='seg') batches
# the modalities; backbone eofm.MsGFMMultiSensor in 'stack_channels' mode
# (appendix C.2): the IRRG tile (read through the pretrained `rgb` embedding,
# input_keys=dict(rgb='irrg'); uint8 / 255 and ImageNet statistics, as the
# pretraining's RGB) and the DSM heights (as read, as the pretraining's MDAS DSM)
# stacked into one 4-channel patch embedding initialised from the pretrained rgb
# and dsm embeddings -> Swin-B stages (128, 256, 512, 1024 channels) -> UPerHead
# (512 channels, 6 classes) + auxiliary FCNHead on stage 3 (weight 0.4).
#
# Choices (the GFM setup is not restated in the msGFM paper; these are
# mmsegmentation's Swin UperNet settings): AdamW, lr 6e-5, weight decay 0.01, no
# decay on norms and position tables, 1500 linear warm-up iterations, poly decay
# (power 1) to 80k iterations, batch 8 (4 GPUs x 2), drop path 0.3, 512 x 512 px
# windows every 256 px of the 16 training areas, random flips. Testing: whole-window
# inference on non-overlapping 512 px windows of the 17 test areas, against the
# eroded ground truth (boundaries ignored), mIoU over the 6 classes.
#
# Data: configs/_base_/datasets/vaihingen_rgbdsm.py (ISPRS layout under
# data/vaihingen/: top/, dsm/ and the ground-truth folders).
# Weights: checkpoints/msgfm_swin-b.pth (eofm's msGFM pretraining; see
# configs/_base_/models/msgfm_swin-b.py).
_base_ = [
    '../_base_/datasets/vaihingen_rgbdsm.py',
    '../_base_/models/msgfm_swin-b.py',
    '../_base_/default_runtime_mmseg.py',
]
num_classes = 6
norm_cfg = dict(type='SyncBN', requires_grad=True)

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        normalize=dict(irrg=_base_.msgfm_rgb_normalize)),
    backbone=dict(
        type='eofm.MsGFMMultiSensor',
        backbone=dict(_base_.msgfm_encoder, drop_path_rate=0.3),
        sensors=['rgb', 'dsm'],
        input_keys=dict(rgb='irrg'),
        mode='stack_channels',
        stack_name='stack'),
    decode_head=dict(
        type='UPerHead',
        in_channels=[128, 256, 512, 1024],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=512,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=80000, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=8)
