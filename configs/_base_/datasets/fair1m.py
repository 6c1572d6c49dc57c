# FAIR1M-1.0, oriented boxes, 37 classes (mmrotate; use with default_scope='mmrotate').
# Expects 1024 px patches in DOTA format, made from the official layout
# (FAIR1M/train/part1/{images,labelXml}, ..., FAIR1M/validation/{images,labelXml}) by
#   python tools/dataset_converters/fair1m_to_dota.py FAIR1M/train \
#       -o data/fair1m/dota/train
#   python tools/dataset_converters/dota_split.py data/fair1m/dota/train \
#       -o data/fair1m/split_ss/train --size 1024 --gap 200
# (the same for validation -> split_ss/val), i.e.
#   data/fair1m/split_ss/{train,val}/images/*.png, .../annfiles/*.txt
# eofm.FAIR1MDataset is mmrotate's DOTADataset with FAIR1M's classes; pipelines mirror
# mmrotate's DOTA config.
dataset_type = 'eofm.FAIR1MDataset'
data_root = 'data/fair1m/'
file_client_args = dict(backend='disk')

train_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(
        type='mmdet.RandomFlip',
        prob=0.75,
        direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='mmdet.PackDetInputs')
]
val_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    # avoid bboxes being resized
    dict(type='mmdet.LoadAnnotations', with_bbox=True, box_type='qbox'),
    dict(type='ConvertBoxType', box_type_mapping=dict(gt_bboxes='rbox')),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
test_pipeline = [
    dict(type='mmdet.LoadImageFromFile', file_client_args=file_client_args),
    dict(type='mmdet.Resize', scale=(1024, 1024), keep_ratio=True),
    dict(
        type='mmdet.PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=None,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='split_ss/train/annfiles/',
        data_prefix=dict(img_path='split_ss/train/images/'),
        img_shape=(1024, 1024),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='split_ss/val/annfiles/',
        data_prefix=dict(img_path='split_ss/val/images/'),
        img_shape=(1024, 1024),
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='DOTAMetric', metric='mAP')
test_evaluator = val_evaluator

# For the unlabelled test images (split with dota_split.py into split_ss/test/images):
# test_dataloader = dict(
#     batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
#     sampler=dict(type='DefaultSampler', shuffle=False),
#     dataset=dict(type=dataset_type, data_root=data_root,
#                  data_prefix=dict(img_path='split_ss/test/images/'),
#                  img_shape=(1024, 1024), test_mode=True, pipeline=test_pipeline))
# test_evaluator = dict(type='DOTAMetric', format_only=True, merge_patches=True,
#                       outfile_prefix='./work_dirs/fair1m/Task1')
