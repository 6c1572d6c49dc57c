# UperNet over SkySense's HR encoder (mmseg EncoderDecoder), the segmentation model of
# SkySense's Table J13 (i) setups: Swin Transformer V2-H (eofm.SkySenseSwinV2, arch
# 'huge', the release file skysense_model_backbone_hr.pth under `backbone.`) with
# multi-scale outputs [352, 704, 1408, 2816], a UPerHead and an auxiliary FCNHead on
# stage 3 (as the release's iSAID config). Task configs set num_classes, crop size,
# the data preprocessor's statistics and the test mode.
checkpoint = 'checkpoints/skysense_model_backbone_hr.pth'
norm_cfg = dict(type='SyncBN', requires_grad=True)  # BN when not distributed
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='eofm.SkySenseSwinV2',
        arch='huge',
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
        num_classes=2,
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
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
