from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .layer_decay_constructor import (LayerDecayOptimWrapperConstructor,
                                      encoder_layer_depths)

__all__ = [
    'CPUAmpOptimWrapper', 'LayerDecayOptimWrapperConstructor', 'encoder_layer_depths'
]
