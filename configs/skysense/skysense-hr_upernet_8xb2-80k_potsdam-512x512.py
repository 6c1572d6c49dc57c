# ISPRS Potsdam semantic segmentation with SkySense's HR encoder (paper Table 2a:
# Potsdam mF1 93.99, clutter excluded; setup Table J13 (i)): UperNet over Swin
# Transformer V2-H on NIR-R-G images, 512 x 512 crops, random scaling 0.5-2.0, random
# crop and flip, AdamW lr 6e-5, wd 0.01, poly with a 1.5k-iteration warmup from 1e-6,
# drop path 0.3, 80k iterations at batch 16. Six classes are trained; the scores
# (mF1, mIoU, aAcc) cover the five classes other than clutter.
#
# Data: mmseg's Potsdam layout and converter (mmseg's configs/_base_/datasets/
# potsdam.py, reused here): put 3_Ortho_IRRG.zip and 5_Labels_all_noBoundary.zip
# (not the RGB zip) in one folder and run mmseg's
#   python tools/dataset_converters/potsdam.py <folder> -o data/potsdam
# which writes 512 px patches to data/potsdam/{img_dir,ann_dir}/{train,val}
# (val = the 14 test tiles).
# Weights: skysense_model_backbone_hr.pth (keys under `backbone.`) at checkpoints/.
# The release's 3 input filters see N, R, G in place of R, G, B.
_base_ = [
    '../_base_/models/skysense-hr_upernet.py',
    'mmseg::_base_/datasets/potsdam.py',
    '../_base_/schedules/skysense-seg_adamw-ld0.9_poly-80k.py',
    '../_base_/default_runtime_mmseg.py',
]
crop_size = (512, 512)
num_classes = 6

model = dict(
    data_preprocessor=dict(size=crop_size, bgr_to_rgb=True),
    backbone=dict(img_size=crop_size[0], drop_path_rate=0.3),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
    test_cfg=dict(mode='whole'))

# mmseg's Potsdam pipeline without its photometric distortion (not in Table J13)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=crop_size, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='eofm.ClassSubsetIoUMetric',
    exclude_classes=['clutter'],
    iou_metrics=['mIoU', 'mFscore'])
test_evaluator = val_evaluator

# 8 GPUs x 2 images = the paper's batch 16
auto_scale_lr = dict(enable=False, base_batch_size=16)
