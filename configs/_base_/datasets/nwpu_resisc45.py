# NWPU-RESISC45 scene classification, 45 classes (mmpretrain; 'mmpretrain' scope).
# Expects the official folder-per-class layout and split lists:
#   data/nwpu_resisc45/NWPU-RESISC45/<class>/*.jpg   (as the archive extracts)
#   data/nwpu_resisc45/splits/tr{10,20}/{train,test}.txt  (10 % / 20 % of each class)
# written by `python tools/dataset_converters/scene_splits.py
#   data/nwpu_resisc45/NWPU-RESISC45 --dataset nwpu_resisc45`.
# The 10 % protocol is used below; set ann_file='' to read every image of the class
# folders. eofm.NWPURESISC45 is mmpretrain's CustomDataset with its 45 classes;
# pipelines mirror mmpretrain's ImageNet config.
dataset_type = 'eofm.NWPURESISC45'
data_root = 'data/nwpu_resisc45/'
data_preprocessor = dict(
    num_classes=45,
    # RGB format normalization parameters
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # convert image from BGR to RGB
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='NWPU-RESISC45'),
        ann_file='splits/tr10/train.txt',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='NWPU-RESISC45'),
        ann_file='splits/tr10/test.txt',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
