# Fine-tune AnySat on your own folders of rasters (docs/own_data.md): the data of
# configs/skysense/skysense-tiny_fcn_1xb4-40it_own-data-s2s1hr-320m.py (a Sentinel-2
# L2A series with B2, B3, B4, B8; a Sentinel-1 series, VV, VH; an RGB image; 4
# classes), 20 m patches, the sub-patch linear head on 10 m cells, 40 iterations at
# batch 4 on a CPU.
#
# The weights: the tiny AnySat that
# configs/anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py pretrains with JEPA
# on the sample data (its HR image enters as the NAIP-like modality 'naip', 1.25 m,
# R, G, B, NIR). The band contract takes the kernels of your bands by name; the
# checkpoint records the Sentinel bands it was trained on, the HR ones are given
# (trained_bands) because the pretraining named that modality 'hr' in its data.
_base_ = ['../_base_/default_runtime_mmseg.py']

data_root = 'data/own/'
pretrained = 'work_dirs/anysat_demo/iter_100.pth'
classes = ('class 0', 'class 1', 'class 2', 'class 3')
s2_bands = ['B2', 'B3', 'B4', 'B8']
hr_bands = ['R', 'G', 'B']
patch_size = 20  # metres
num_dates = dict(s2=3, s1=2)

modalities = dict(
    s2=dict(bands=s2_bands, scale='reflectance'),
    s1=dict(bands=['VV', 'VH'], scale='db', gsd=10.0),
    hr=dict(bands=hr_bands, scale='uint8', gsd=1.25))
load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=modalities,
    reference='s2',
    label_maps=dict(gt_seg_map=dict(like='s2')))
used = ['s2', 's1', 'naip']
train_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=num_dates),
    dict(type='eofm.RenameModality', src='hr', dst='naip'),
    dict(type='eofm.AlignedRandomFlip', prob=0.5, directions=['horizontal', 'vertical']),
    dict(type='eofm.PackMultiModalInputs', modalities=used),
]
test_pipeline = [
    load,
    dict(type='eofm.TemporalSample', lengths=num_dates, mode='even'),
    dict(type='eofm.RenameModality', src='hr', dst='naip'),
    dict(type='eofm.PackMultiModalInputs', modalities=used),
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
        # used only for modalities the checkpoint has no statistics of (naip)
        normalize=dict(
            s2=dict(mean=[0.13, 0.145, 0.154, 0.225], std=[0.14, 0.14, 0.15, 0.163]),
            s1=dict(mean=[-12.1, -18.9], std=[7.1, 7.0]),
            naip=dict(mean=[0.44, 0.46, 0.39], std=[0.24, 0.17, 0.14]))),
    backbone=dict(
        type='eofm.AnySat',
        arch='tiny',
        modalities=dict(naip=dict(), s2=dict(), s1=dict()),
        patch_size=patch_size,
        bands=dict(naip=hr_bands, s2=s2_bands, s1=['VV', 'VH']),
        trained_bands=dict(naip=['R', 'G', 'B', 'NIR']),
        band_policy=dict(missing='mean'),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')),
    neck=dict(type='eofm.TokensToMap', out_type='map'),
    decode_head=dict(
        type='eofm.SubPatchLinearSegHead',
        in_channels=64,
        num_classes=len(classes),
        scale=patch_size // 10),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = []
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=40))
