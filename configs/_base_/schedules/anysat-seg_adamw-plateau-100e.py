# AnySat's segmentation schedule (Astruc et al., CVPR 2025, supplementary
# "Optimization Parameters"): AdamW with the paper's single learning rate 5e-5
# (weight decay 0.05 as the reference), ReduceLROnPlateau on the validation mIoU,
# validation every epoch. The number of epochs is not in the paper (100, an
# assumption; a config that changes max_epochs sets train_cfg.max_epochs too).
max_epochs = 100
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-5, weight_decay=0.05))
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='mIoU',
        rule='greater',
        factor=0.1,
        patience=10,
        by_epoch=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
