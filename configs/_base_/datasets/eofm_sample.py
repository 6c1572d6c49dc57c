# eofm's generated sample dataset (tools/misc/make_sample_dataset.py; `make demo`
# writes it to data/sample): 32 x 32 px tiles of Sentinel-2 (10 bands + SCL) and
# Sentinel-1 series, an HR image 8x finer, a second HR image a year later,
# segmentation / change / classification labels, in eight regions of the globe.
dataset_type = 'eofm.MultiModalDataset'
data_root = 'data/sample/'

s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
modalities = dict(
    hr=dict(scale='uint8'),
    s2=dict(bands=s2_bands, scale='reflectance'),
    s2_scl=dict(bands=['SCL'], resample='nearest'),
    s1=dict(bands=['VV', 'VH'], scale='db'))
# Per-band statistics of the generated data (reflectance, dB, HR in [0, 1]),
# measured on the validation split of the default generation.
normalize = dict(
    hr=dict(mean=[0.44, 0.46, 0.39, 0.42], std=[0.24, 0.17, 0.14, 0.22]),
    s2=dict(
        mean=[0.13, 0.145, 0.154, 0.174, 0.203, 0.216, 0.225, 0.231, 0.229, 0.198],
        std=[0.14, 0.14, 0.15, 0.149, 0.152, 0.157, 0.163, 0.165, 0.17, 0.168]),
    s1=dict(mean=[-12.1, -18.9], std=[7.1, 7.0]))

load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=modalities,
    reference='hr',
    label_maps=dict(
        gt_seg_map=dict(like='s2'), gt_change_map=dict(like='hr', required=False)))
train_pipeline = [
    load,
    dict(
        type='eofm.FilterCloudyDates',
        modality='s2',
        cloud_key='s2_scl',
        max_cloud_fraction=0.5,
        min_dates=4),
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6)),
    dict(type='eofm.DateJitter', modalities=['s2', 's1'], max_shift=5),
    dict(type='eofm.AlignedRandomCrop', size=192, reference='hr'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
test_pipeline = [
    load,
    dict(
        type='eofm.FilterCloudyDates',
        modality='s2',
        cloud_key='s2_scl',
        max_cloud_fraction=0.5,
        min_dates=4),
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6), mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.json',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
