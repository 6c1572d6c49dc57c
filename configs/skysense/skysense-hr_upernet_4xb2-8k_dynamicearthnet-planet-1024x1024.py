# DynamicEarthNet-PlanetFusion land-cover segmentation with SkySense's HR encoder
# (paper Table 2a, Dyna.-Pla. mIoU 39.7 (val) / 46.5 (test); setup Table J13 (i)):
# Swin Transformer V2-H on one 4-band Planet Fusion image (R, G, B, NIR; the NIR
# filter is initialised from the release's red filter, see SkySenseSwinV2) through
# eofm.SkySense's single-modal static mode, UPerHead + auxiliary FCNHead, 1024 px,
# AdamW lr 6e-5, wd 0.01, poly with a 1.5k-iteration warmup from 1e-6, drop path
# 0.3, 8k iterations at batch 8, random crop + flip. 7 classes; 255 where a pixel
# has no class.
#
# Data: the official DynamicEarthNet layout described in
# configs/_base_/datasets/dynamic_earthnet.py (data/dynamic_earthnet/...). Each
# monthly label goes with one Planet image of that month: a random one of the
# 'weekly' days for training, the first one for testing.
# Weights: skysense_model_backbone_hr.pth (keys under `backbone.`) at checkpoints/.
_base_ = [
    '../_base_/models/skysense-hr_upernet.py',
    '../_base_/datasets/dynamic_earthnet.py',
    '../_base_/schedules/skysense-seg_adamw-ld0.9_poly-80k.py',
    '../_base_/default_runtime_mmseg.py',
]
checkpoint = 'checkpoints/skysense_model_backbone_hr.pth'
crop_size = (1024, 1024)
num_classes = 7

modalities = dict(
    planet=dict(bands=['R', 'G', 'B', 'NIR'], scale='reflectance'),
    labels=dict(resample='nearest'))
train_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='planet', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.TemporalSample', lengths=dict(planet=1), mode='random'),
    dict(type='eofm.RenameModality', src='planet', dst='hr', date=0),
    dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='hr'),
    dict(type='eofm.AlignedRandomFlip', prob=0.5),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr']),
]
test_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', reference='planet', modalities=modalities),
    dict(type='eofm.OneHotToSegMap', key='labels', ignore_index=255),
    dict(type='eofm.RenameModality', src='planet', dst='hr', date=0),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr']),
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
        normalize=dict(hr={{_base_.normalize.planet}})),
    backbone=dict(
        _delete_=True,
        type='eofm.SkySense',
        arch='huge',
        modalities=('hr', ),
        use_fusion=False,
        hr=dict(
            in_channels=4,
            img_size=crop_size[0],
            drop_path_rate=0.3,
            out_indices=(0, 1, 2, 3),
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint,
                          prefix='backbone'))),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
    test_cfg=dict(mode='whole'))

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=8000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=8000, val_interval=1000)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=1000))
# 4 GPUs x 2 images = the paper's batch 8
auto_scale_lr = dict(enable=False, base_batch_size=8)
