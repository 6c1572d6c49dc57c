# DIOR horizontal-box detection with SkySense's HR encoder (paper Table 2b: Faster
# R-CNN on DIOR, mAP50 78.73): Swin Transformer V2-H (eofm.SkySenseSwinV2, arch
# 'huge') with multi-scale outputs [352, 704, 1408, 2816], an FPN and mmdet's Faster
# R-CNN heads (as faster-rcnn_r50_fpn) for DIOR's 20 classes; 800 x 800 px, trained
# on train + val, evaluated on test with VOC mAP at IoU 0.5; 12 epochs (lr steps at
# 8 and 11) on 8 GPUs x 1 image.
#
# Data: the official DIOR layout, no converter, as described in
# configs/_base_/datasets/dior_hbb.py (data/dior/JPEGImages-{trainval,test}, ...).
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or change `checkpoint`
# below; the backbone's init_cfg loads it strictly (only the fresh output norms of
# stages 0-2 stay as initialised).
_base_ = [
    '../_base_/datasets/dior_hbb.py',
    '../_base_/default_runtime_mmdet.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_hr.pth'
num_classes = 20

model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='eofm.SkySenseSwinV2',
        arch='huge',
        img_size=800,
        in_channels=3,
        window_size=8,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    neck=dict(
        type='FPN', in_channels=[352, 704, 1408, 2816], out_channels=256, num_outs=5),
    rpn_head=dict(
        type='RPNHead',
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[8],
            ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=num_classes,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=2000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=False,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=512,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))

# train.txt + val.txt for training (the base config's ConcatDataset), test.txt for
# evaluation with VOC mAP50
train_dataloader = dict(batch_size=1, num_workers=2)
val_dataloader = dict(batch_size=1, num_workers=2)
test_dataloader = val_dataloader

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
# 1k-iteration linear warmup from 1e-3 (Table J13 (ii)); drop path 0.2 and 8 images
# per step as the release's config (Table J13 lists 0.3 and 4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# 8 GPUs x 1 image; `--auto-scale-lr` rescales lr for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=8)
