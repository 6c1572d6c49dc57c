# LEVIR-CD: building change detection between two 1024 x 1024 px RGB images (0.5 m)
# (Chen and Shi, Remote Sensing 2020).
# Expected layout under data_root:
#   train/A/train_<n>.png, train/B/train_<n>.png, train/label/train_<n>.png  (0/255)
#   val/..., test/...
dataset_type = 'eofm.LEVIRCD'
data_root = 'data/levir_cd/'
# ImageNet statistics, used for LEVIR-CD by the usual change-detection baselines.
rgb_stats = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
normalize = dict(pre=rgb_stats, post=rgb_stats)

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(pre=dict(scale='uint8'), post=dict(scale='uint8')),
        reference='pre',
        label_maps=dict(gt_change_map=dict(like='pre'))),
    dict(type='eofm.RemapLabelMap', key='gt_change_map', binary=True),
    dict(type='eofm.PackMultiModalInputs', modalities=['pre', 'post']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
