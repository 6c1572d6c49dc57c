# AID scene classification, 30 classes (mmpretrain; default_scope='mmpretrain').
# Expects the official folder-per-class layout and split lists:
#   data/aid/AID/<Class>/*.jpg        (as the archive extracts)
#   data/aid/splits/tr{20,50}/{train,test}.txt   (20 % / 50 % of each class train)
# written by
#   `python tools/dataset_converters/scene_splits.py data/aid/AID --dataset aid`.
# The 20 % protocol is used below; set ann_file='' to read every image of the class
# folders. eofm.AID is mmpretrain's CustomDataset with AID's classes; pipelines mirror
# mmpretrain's ImageNet config.
dataset_type = 'eofm.AID'
data_root = 'data/aid/'
data_preprocessor = dict(
    num_classes=30,
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
        data_prefix=dict(img_path='AID'),
        ann_file='splits/tr20/train.txt',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='AID'),
        ann_file='splits/tr20/test.txt',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
