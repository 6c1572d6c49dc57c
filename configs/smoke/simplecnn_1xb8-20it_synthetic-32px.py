# Smoke run of the training tools: a tiny registered eofm backbone in an mmpretrain
# classifier, trained for 20 iterations on generated 4-band 32x32 images, validated
# and checkpointed every 10. Used by the tests and by `make demo` until the SkySense
# pretraining demo exists. CPU: a few seconds.
_base_ = ['../_base_/default_runtime_mmpretrain.py']

num_classes = 4
in_channels = 4

model = dict(
    type='ImageClassifier',
    backbone=dict(type='eofm.SimpleConvNet', in_channels=in_channels,
                  channels=(16, 32)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=32,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )),
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=num_classes),
)

dataset_type = 'eofm.SyntheticClassificationDataset'
pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(type=dataset_type, num_samples=64, num_classes=num_classes,
                 in_channels=in_channels, seed=0, pipeline=pipeline),
    sampler=dict(type='InfiniteSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(type=dataset_type, num_samples=32, num_classes=num_classes,
                 in_channels=in_channels, seed=1, pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                    weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=20, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=10)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=2),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=False)
