# iSAID semantic segmentation with SkySense's HR encoder (paper Table 3: UperNet on
# iSAID, mIoU 70.91): Swin Transformer V2-H (eofm.SkySenseSwinV2, arch 'huge') with
# multi-scale outputs [352, 704, 1408, 2816], a UPerHead and an auxiliary FCNHead on
# stage 3; 896 x 896 crops, 80k iterations on 8 GPUs x 2 images, sliding-window test.
#
# Data: 896 px patches made by tools/dataset_converters/isaid.py, laid out as
# described in configs/_base_/datasets/isaid.py (data/isaid/{img_dir,ann_dir}/...).
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or change `checkpoint`
# below; the backbone's init_cfg loads it strictly (only the fresh output norms of
# stages 0-2 stay as initialised).
_base_ = [
    '../_base_/datasets/isaid.py',
    '../_base_/default_runtime_mmseg.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_hr.pth'
crop_size = (896, 896)
num_classes = 16  # 15 iSAID classes + background
norm_cfg = dict(type='SyncBN', requires_grad=True)  # BN when not distributed

data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='eofm.SkySenseSwinV2',
        arch='huge',
        img_size=crop_size[0],
        in_channels=3,
        window_size=8,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    decode_head=dict(
        type='UPerHead',
        in_channels=[352, 704, 1408, 2816],
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
        in_channels=1408,
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
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(512, 512)))

train_dataloader = dict(batch_size=2, num_workers=4)
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        by_epoch=False,
        begin=1500,
        end=80000,
    )
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# 8 GPUs x 2 images; `--auto-scale-lr` rescales lr for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=16)
