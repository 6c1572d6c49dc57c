# The segmentation schedule of SkySense's Table J13 (i) / J14 (i-ii): AdamW lr 6e-5,
# weight decay 0.01, layer-wise lr decay 0.9 over the encoders' blocks
# (eofm.LayerDecayOptimWrapperConstructor, the release's rule), a linear warmup from
# 1e-6 over 1.5k iterations, then poly (power 1) to 0 at 80k iterations. Task configs
# with other lengths override param_scheduler and train_cfg.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    constructor='eofm.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(decay_rate=0.9))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=1500, end=80000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
