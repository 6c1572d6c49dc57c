# Runtime of eofm's own algorithms (self-supervised pretraining, iteration-based).
_base_ = ['./default_runtime.py']
default_scope = 'eofm'
default_hooks = dict(
    logger=dict(interval=10, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=1000, max_keep_ckpts=3))
visualizer = dict(type='Visualizer', vis_backends={{_base_.vis_backends}})
log_processor = dict(by_epoch=False)
randomness = dict(seed=0, deterministic=False)
