# Runtime of eofm configs whose task library is mmpretrain (classification).
_base_ = ['./default_runtime.py']
default_scope = 'mmpretrain'
default_hooks = dict(
    logger=dict(interval=100),
    visualization=dict(type='VisualizationHook', enable=False))
visualizer = dict(type='UniversalVisualizer', vis_backends={{_base_.vis_backends}})
