# Scene classification on AID with SkySense's HR encoder (the working version of the
# paper's Fig. K16 example): Swin Transformer V2-H (eofm.SkySenseSwinV2, arch 'huge')
# with `skysense_swin_huge_ghr.pth` (= skysense_model_backbone_hr.pth), global
# average pooling and a linear head. 224 px inputs: the last stage is 7 x 7, smaller
# than the window 8, so pad_small_map=True (eofm's default).
_base_ = [
    '../_base_/datasets/aid.py',
    '../_base_/default_runtime_mmpretrain.py',
]
checkpoint = 'checkpoints/skysense_swin_huge_ghr.pth'

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='eofm.SkySenseSwinV2',
        arch='huge',
        img_size=224,
        in_channels=3,
        window_size=8,
        drop_path_rate=0.2,
        out_indices=(3, ),
        pad_small_map=True,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=30,
        in_channels=2816,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=95, by_epoch=True, begin=5, end=100),
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
