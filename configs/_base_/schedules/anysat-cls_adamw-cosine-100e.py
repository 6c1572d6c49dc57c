# AnySat's classification schedule (Astruc et al., CVPR 2025, supplementary
# "Optimization Parameters"): AdamW with the paper's single learning rate 5e-5
# (weight decay 0.05 as the reference), linear warm-up then cosine annealing
# (LinearWarmupCosineAnnealingLR), validation every epoch. The numbers of epochs are
# not in the paper (100 with 5 of warm-up, an assumption).
max_epochs = 100
warmup_epochs = 5
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-5, weight_decay=0.05))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
