# Image-to-image fine-tuning schedule of the msGFM downstream configs (SEN12MS-CR
# cloud removal, SpaceNet-2 pan-sharpening; the paper gives none): AdamW lr 1e-4, wd
# 0.05 (none on norms and position tables), gradient clipping 5, 1.5k-iteration linear
# warmup from 1e-6 then cosine to 1e-6 at 40k iterations, batch 32 in total;
# validation every 4k iterations (task configs set the checkpoints).
max_iters = 40000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.0),
            'absolute_pos_embed': dict(decay_mult=0.0)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=False,
        begin=1500,
        end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=32)
