from .layer_decay_constructor import (LayerDecayOptimWrapperConstructor,
                                      encoder_layer_depths)

__all__ = ['LayerDecayOptimWrapperConstructor', 'encoder_layer_depths']
