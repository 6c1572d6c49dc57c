# Runtime of eofm configs whose task library is mmrotate (oriented detection).
_base_ = ['./default_runtime.py']
default_scope = 'mmrotate'
default_hooks = dict(visualization=dict(type='mmdet.DetVisualizationHook'))
visualizer = dict(
    type='RotLocalVisualizer', vis_backends={{_base_.vis_backends}}, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
