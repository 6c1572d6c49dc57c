# What every eofm config shares, whatever its task library. The per-library runtimes
# (default_runtime_{eofm,mmpretrain,mmseg,mmdet,mmrotate}.py) inherit this file and set
# the default scope, the visualization hook and the visualizer of their library.
custom_imports = dict(imports=['eofm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Torch's RNG state goes into checkpoints so that --resume is exact.
custom_hooks = [dict(type='eofm.ExactResumeHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
