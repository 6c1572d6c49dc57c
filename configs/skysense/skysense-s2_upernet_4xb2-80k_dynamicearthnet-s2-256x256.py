# DynamicEarthNet-Sentinel2 land-cover segmentation with SkySense's Sentinel-2
# encoder (paper Table 2a, Dyna.-S2 mIoU 33.1 (val) / 46.2 (test); setup Table J13
# (i)): ViT-L g_Ms (eofm.SkySenseViT through eofm.SkySense's single-modal static
# mode) on the monthly composite's 10 bands (B02-08, B8A, B11-12) resampled to the
# 3 m Planet grid (1024 x 1024 px per area, as the paper), features of layers 6, 12,
# 18 and 24 turned into a 4-level pyramid by mmseg's MultiLevelNeck, UPerHead +
# auxiliary FCNHead; 256 x 256 random crops and flips, AdamW lr 6e-5, wd 0.01, poly
# with a 1.5k-iteration warmup from 1e-6, drop path 0.3, 80k iterations at batch 8;
# sliding-window test (256 px windows, stride 171) over the 1024 px areas.
# Reflectances (DN / 1e4) are not normalised further, as in eofm's pretraining.
#
# Data: the official DynamicEarthNet layout (configs/_base_/datasets/
# dynamic_earthnet.py); the Sentinel-2 rasters' 12 bands are read in the order of
# eofm.datasets.dynamic_earthnet.S2_FILE_BANDS (the dataset's `s2_bands`).
# Weights: skysense_model_backbone_s2.pth (keys under `backbone.`) at checkpoints/.
# The same model scores semantic change (SCS) with
# skysense-s2_upernet_4xb2-80k_dynamicearthnet-s2-scs-256x256.py.
_base_ = [
    '../_base_/models/skysense-hr_upernet.py',
    '../_base_/datasets/dynamic_earthnet.py',
    '../_base_/schedules/skysense-seg_adamw-ld0.9_poly-80k.py',
    '../_base_/default_runtime_mmseg.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_s2.pth'
crop_size = (256, 256)
num_classes = 7
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']

modalities = dict(
    s2=dict(bands=s2_bands, scale='reflectance', gsd=3.0),
    labels=dict(resample='nearest'))
train_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='s2', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.RenameModality', src='s2', dst='s2', date=0),
    dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='s2'),
    dict(type='eofm.AlignedRandomFlip', prob=0.5),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
test_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='s2', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.RenameModality', src='s2', dst='s2', date=0),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
train_dataloader = dict(
    batch_size=2, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='eofm.MultiModalDataPreprocessor',
        task='seg',
        tensor_input='s2'),
    backbone=dict(
        _delete_=True,
        type='eofm.SkySense',
        arch='huge',
        modalities=('s2', ),
        use_fusion=False,
        s2=dict(
            drop_path_rate=0.3,
            out_indices=(5, 11, 17, 23),
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint,
                          prefix='backbone'))),
    # ViT-L features at 1/4 -> 1/4, 1/8, 1/16, 1/32
    neck=dict(
        type='MultiLevelNeck',
        in_channels=[1024, 1024, 1024, 1024],
        out_channels=1024,
        scales=[1, 0.5, 0.25, 0.125]),
    decode_head=dict(in_channels=[1024, 1024, 1024, 1024], num_classes=num_classes),
    auxiliary_head=dict(in_channels=1024, num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(171, 171)))

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# 4 GPUs x 2 images = the paper's batch 8
auto_scale_lr = dict(enable=False, base_batch_size=8)
