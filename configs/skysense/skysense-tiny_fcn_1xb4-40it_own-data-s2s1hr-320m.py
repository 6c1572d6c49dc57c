# Fine-tune SkySense on your own folders of rasters (docs/own_data.md): a Sentinel-2
# L2A series with 4 bands (B2, B3, B4, B8), a Sentinel-1 GRD series (VV, VH; another
# UTM zone is fine: the annotation builder warps it), an RGB high-resolution image
# (per-band files) and a label raster of 4 classes; samples of 32 x 32 Sentinel-2
# pixels (320 m), 40 iterations at batch 4 on a CPU.
#
# The weights: the tiny SkySense that `make demo` pretrains on the sample data
# (work_dirs/demo/iter_150.pth). It was trained on 10 Sentinel-2 bands and an R, G,
# B, NIR image: the band contract (eofm.structures.bands) picks the kernels of the
# bands your data have by name, and `band_policy=dict(missing='mean')` says what to do
# with the ones they lack (their kernels are dropped: the same as feeding the band's
# normalised mean). The normalisation statistics come with the checkpoint (the ones
# the weights were trained with, reordered to your bands); set
# model.data_preprocessor.normalize_from='config' to use `normalize` below instead
# (e.g. the JSON file tools/analysis_tools/dataset_stats.py --out writes).
#
# Replace data_root, classes and the band names with yours; the steps:
#   python tools/dataset_converters/folder_to_annotations.py FOLDERS --out-dir DATA ...
#   python tools/misc/check_dataset.py THIS_CONFIG --cfg-options data_root=DATA/
#   python tools/train.py THIS_CONFIG --cfg-options data_root=DATA/
#   python tools/test.py THIS_CONFIG work_dirs/.../iter_40.pth --cfg-options data_root=DATA/
#   python tools/infer_scene.py THIS_CONFIG work_dirs/.../iter_40.pth SCENE.json --out-dir MAP
_base_ = ['../_base_/default_runtime_mmseg.py']

data_root = 'data/own/'
pretrained = 'work_dirs/demo/iter_150.pth'
classes = ('class 0', 'class 1', 'class 2', 'class 3')
s2_bands = ['B2', 'B3', 'B4', 'B8']
hr_bands = ['R', 'G', 'B']
num_dates = dict(s2=3, s1=2)

# HR read at 1.25 m (8 x finer than Sentinel-2's 10 m, as in the pretraining), S1 at
# 10 m: every encoder's features land on one grid
modalities = dict(
    s2=dict(bands=s2_bands, scale='reflectance'),
    s1=dict(bands=['VV', 'VH'], scale='db', gsd=10.0),
    hr=dict(bands=hr_bands, scale='uint8', gsd=1.25))
load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=modalities,
    reference='s2',
    label_maps=dict(gt_seg_map=dict(like='s2')))
train_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=num_dates),
    dict(type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
test_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=num_dates, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2', 's1']),
]
dataset = dict(
    type='eofm.MultiModalDataset', data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(dataset, ann_file='train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(dataset, ann_file='val.json', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(dataset, ann_file='test.json',
                                                    pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        # used only for modalities the checkpoint has no statistics of
        normalize=dict(
            s2=dict(mean=[0.13, 0.145, 0.154, 0.225], std=[0.14, 0.14, 0.15, 0.163]),
            s1=dict(mean=[-12.1, -18.9], std=[7.1, 7.0]),
            hr=dict(mean=[0.44, 0.46, 0.39], std=[0.24, 0.17, 0.14]))),
    backbone=dict(
        type='eofm.SkySense',
        arch='tiny',
        modalities=('hr', 's2', 's1'),
        max_dates=num_dates,
        up_head=dict(scale=1),
        hr=dict(in_channels=len(hr_bands), bands=hr_bands,
                trained_bands=['R', 'G', 'B', 'NIR'], band_policy=dict(missing='mean')),
        s2=dict(in_channels=len(s2_bands), bands=s2_bands,
                band_policy=dict(missing='mean')),
        s1=dict(bands=['VV', 'VH']),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    decode_head=dict(
        type='FCNHead',
        in_channels=64,
        channels=32,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=len(classes),
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=40))
