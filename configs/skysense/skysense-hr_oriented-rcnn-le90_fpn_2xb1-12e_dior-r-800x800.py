# DIOR-R oriented object detection with SkySense's HR encoder (paper Table 2b:
# Oriented R-CNN on DIOR-R, paper mAP: 74.27; setup of Table J13 (ii)): Swin
# Transformer V2-H (eofm.SkySenseSwinV2, arch 'huge') with multi-scale outputs
# [352, 704, 1408, 2816], an FPN and mmrotate's Oriented R-CNN heads (as
# oriented-rcnn-le90_r50_fpn_1x_dota) for DIOR-R's 20 classes; 800 x 800 px RGB,
# RandomFlip, trained on train + val, evaluated on test with mmrotate's DOTAMetric
# (mAP at IoU 0.5, VOC07 11-point, as mmrotate's DIOR config); AdamW lr 1e-4, wd
# 0.05, layer decay 0.9, drop path 0.3, 12 epochs (lr steps at 8 and 11), 1k-iteration
# linear warmup from 1e-3; total batch 2 (2 GPUs x 1 image).
#
# Data: the official DIOR-R layout, no converter, as described in
# configs/_base_/datasets/dior_r.py (data/dior/JPEGImages-{trainval,test}/*.jpg,
# data/dior/Annotations/Oriented Bounding Boxes/*.xml,
# data/dior/ImageSets/Main/{train,val,test}.txt), read by mmrotate's DIORDataset.
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or set
# model.backbone.init_cfg.checkpoint; the backbone's init_cfg loads it strictly (only
# the fresh output norms of stages 0-2 stay as initialised).
# Drop path 0.3 as in Table J13 (the release's iSAID config uses 0.2); the model is
# configs/_base_/models/skysense-hr_oriented-rcnn-le90_fpn.py.
_base_ = [
    '../_base_/models/skysense-hr_oriented-rcnn-le90_fpn.py',
    '../_base_/datasets/dior_r.py',
    '../_base_/default_runtime_mmrotate.py',
]
num_classes = 20

model = dict(
    backbone=dict(img_size=800), roi_head=dict(bbox_head=dict(num_classes=num_classes)))

# train.txt + val.txt for training (the base config's ConcatDataset, RandomFlip),
# test.txt for evaluation; 2 GPUs x 1 image
train_dataloader = dict(batch_size=1, num_workers=2)
val_dataloader = dict(batch_size=1, num_workers=2)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='DOTAMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')
test_evaluator = val_evaluator

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
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
# total batch 2 (Table J13); `--auto-scale-lr` rescales lr for another total batch
auto_scale_lr = dict(enable=False, base_batch_size=2)
