# The example project: your own encoder (eofm.ExampleSeriesEncoder) fine-tuned for
# land-cover segmentation with mmseg's EncoderDecoder + FCNHead on eofm's generated
# sample data (python tools/misc/make_sample_dataset.py data/sample): Sentinel-2 and
# Sentinel-1 series at 10 m plus an NDVI series derived in the pipeline
# (eofm.ExampleAddNDVI), 5 classes, 40 iterations on CPU.
_base_ = ['../../../configs/_base_/default_runtime_mmseg.py']
custom_imports = dict(
    imports=['eofm', 'projects.example_project.example_encoder'],
    allow_failed_imports=False)

data_root = 'data/sample/'
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
classes = ('water', 'forest', 'cropland', 'urban', 'bare')

load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        s2=dict(bands=s2_bands, scale='reflectance'),
        s1=dict(bands=['VV', 'VH'], scale='db')),
    reference='s2',
    label_maps=dict(gt_seg_map=dict(like='s2')))
train_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6)),
    dict(type='eofm.ExampleAddNDVI', source='s2', red=2, nir=6),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1', 'ndvi']),
]
test_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=dict(s2=8, s1=6), mode='even'),
    dict(type='eofm.ExampleAddNDVI', source='s2', red=2, nir=6),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1', 'ndvi']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type='eofm.MultiModalDataset',
        data_root=data_root,
        ann_file='train.json',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type='eofm.MultiModalDataset',
        data_root=data_root,
        ann_file='val.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        predict_grid='s2',
        normalize=dict(
            s2=dict(
                mean=[0.13, 0.145, 0.154, 0.174, 0.203, 0.216, 0.225, 0.231, 0.229,
                      0.198],
                std=[0.14, 0.14, 0.15, 0.149, 0.152, 0.157, 0.163, 0.165, 0.17,
                     0.168]),
            s1=dict(mean=[-12.1, -18.9], std=[7.1, 7.0]))),
    backbone=dict(
        type='eofm.ExampleSeriesEncoder',
        in_channels=dict(s2=10, s1=2, ndvi=1),
        channels=32),
    decode_head=dict(
        type='FCNHead',
        in_channels=32,
        channels=32,
        num_convs=1,
        concat_input=False,
        num_classes=len(classes),
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-3, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=40, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(by_epoch=False, interval=40))
randomness = dict(seed=0)
