# FAIR1M fine-grained oriented object detection with SkySense's HR encoder (paper
# Table 2b: Oriented R-CNN on FAIR1M, paper mAP: 54.57, from the official
# leaderboard-v2.0; setup of Table J13 (ii)): Swin Transformer V2-H
# (eofm.SkySenseSwinV2, arch 'huge') with multi-scale outputs [352, 704, 1408, 2816],
# an FPN and mmrotate's Oriented R-CNN heads for FAIR1M's 37 classes; 512 x 512 px
# RGB patches; RandomFlip, RandomRotate and multi-scale training (training patches
# cut at rates 0.5, 1.0 and 1.5 and all resized to 512 px: mmrotate's DOTA
# multi-scale protocol); AdamW lr 1e-4, wd 0.05, layer decay 0.9, drop path 0.3,
# 8 epochs, 500-iteration linear warmup from 1e-3, total batch 12 (4 GPUs x 3
# images). Table J13 gives no lr steps for 8 epochs: [6, 7] here (the 1x schedule's
# steps at 2/3 of training and before the last epoch).
#
# Data: FAIR1M's official layout (FAIR1M/train/part*/{images,labelXml},
# FAIR1M/validation/{images,labelXml}, FAIR1M/test/images: the leaderboard's
# unlabelled test images), converted and cut into 512 px patches (gap 200) as in
# configs/_base_/datasets/fair1m.py:
#   python tools/dataset_converters/fair1m_to_dota.py FAIR1M/train \
#       -o data/fair1m/dota/train
#   python tools/dataset_converters/fair1m_to_dota.py FAIR1M/validation \
#       -o data/fair1m/dota/val
#   python tools/dataset_converters/dota_split.py data/fair1m/dota/train \
#       -o data/fair1m/split_ms_512/train --size 512 --gap 200 --rates 0.5 1.0 1.5
#   python tools/dataset_converters/dota_split.py data/fair1m/dota/val \
#       -o data/fair1m/split_ss_512/val --size 512 --gap 200
#   python tools/dataset_converters/dota_split.py FAIR1M/test \
#       -o data/fair1m/split_ss_512/test --size 512 --gap 200
# (dota_split.py cuts a folder with images/ and no labelTxt/ into image patches only),
# giving data/fair1m/split_ms_512/train/{images,annfiles}/,
# data/fair1m/split_ss_512/val/{images,annfiles}/ and data/fair1m/split_ss_512/test/
# images/.
# Evaluation: validation = mAP at IoU 0.5 on the validation patches
# (eofm.FAIR1MMetric, i.e. mmrotate's DOTAMetric). Test = the leaderboard submission:
#   python tools/test.py CONFIG CHECKPOINT
# merges the patch predictions per test image and writes one FAIR1M XML file per
# image to work_dirs/<config name>/submission/test/ (+ test.zip), a new folder; change
# it with --cfg-options test_evaluator.outfile_prefix=DIR.
# Weights: put the release file skysense_model_backbone_hr.pth (keys under
# `backbone.`; = skysense_swin_huge_ghr.pth) at checkpoints/ or set
# model.backbone.init_cfg.checkpoint; the backbone's init_cfg loads it strictly.
# Drop path 0.3 as in Table J13 (the release's iSAID config uses 0.2); the model is
# configs/_base_/models/skysense-hr_oriented-rcnn-le90_fpn.py.
_base_ = [
    '../_base_/models/skysense-hr_oriented-rcnn-le90_fpn.py',
    '../_base_/datasets/fair1m.py',
    '../_base_/default_runtime_mmrotate.py',
]
num_classes = 37
img_scale = (512, 512)
# dota_split.py --rates of the training patches (multi-scale training, see above)
train_split_rates = (0.5, 1.0, 1.5)

model = dict(
    backbone=dict(img_size=img_scale[0]),
    roi_head=dict(bbox_head=dict(num_classes=num_classes)))

file_client_args = dict(backend='disk')
train_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='mmdet.RandomFlip',
        prob=0.75,
        direction=['horizontal', 'vertical', 'diagonal']),
    # mmrotate's RandomRotate as in its dota_ms config; round objects, whose box
    # orientation is arbitrary (there DOTA's storage-tank and roundabout, here
    # FAIR1M's Roundabout, label 35), are only turned by multiples of 90 degrees.
    dict(type='RandomRotate', prob=0.5, angle_range=180, rect_obj_labels=[35]),
    dict(type='mmdet.PackDetInputs')
]
val_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    # avoid bboxes being resized
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
test_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.Resize', scale=img_scale, keep_ratio=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

# 4 GPUs x 3 images
train_dataloader = dict(
    batch_size=3,
    num_workers=2,
    dataset=dict(
        ann_file='split_ms_512/train/annfiles/',
        data_prefix=dict(img_path='split_ms_512/train/images/'),
        img_shape=img_scale,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(
        ann_file='split_ss_512/val/annfiles/',
        data_prefix=dict(img_path='split_ss_512/val/images/'),
        img_shape=img_scale,
        pipeline=val_pipeline))
# The unlabelled test patches: no annotation folder (ann_file='' makes mmrotate's
# DOTADataset list the images)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(
        ann_file='',
        data_prefix=dict(img_path='split_ss_512/test/images/'),
        img_shape=img_scale,
        test_mode=True,
        pipeline=test_pipeline))

val_evaluator = dict(
    type='eofm.FAIR1MMetric', metric='mAP', iou_thrs=0.5, eval_mode='11points')
test_evaluator = dict(
    type='eofm.FAIR1MMetric',
    format_only=True,
    merge_patches=True,
    outfile_prefix=('./work_dirs/skysense-hr_oriented-rcnn-le90_fpn_4xb3-8e_fair1m-'
                    '512x512/submission/test'))

# AdamW with layer-wise lr decay 0.9 over the Swin V2 blocks
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR', begin=0, end=8, by_epoch=True, milestones=[6, 7], gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=8, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# total batch 12 (Table J13); `--auto-scale-lr` rescales lr for another total batch
auto_scale_lr = dict(enable=False, base_batch_size=12)
