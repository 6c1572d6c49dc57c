# OmniSat's fine-tuning schedule (Astruc et al., ECCV 2024; the reference's
# experiment configs): Adam lr 2e-4 (the paper's text says 2e-5),
# ReduceLROnPlateau on the validation macro F1 (multi-label), at most 200 epochs (the
# reference's default; with early stopping, patience 10, in the task configs), 3 GPUs
# x 128 tiles as the paper states for every experiment.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4))
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='multi-label/f1-score',
        rule='greater',
        factor=0.1,
        patience=10,
        by_epoch=True)
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=384)
