"""Layer-wise learning-rate decay for SkySense's encoders (the original rule)."""
from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor

from eofm.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['LayerDecayOptimWrapperConstructor', 'encoder_layer_depths']


def _swin_depth(rest, depths):
    """Layer id of a Swin V2 parameter (name relative to the encoder)."""
    total = sum(depths)
    if rest.startswith('patch_embed.'):
        return 0
    parts = rest.split('.')
    if parts[0] == 'stages':
        s = int(parts[1])
        if parts[2] == 'blocks':
            return sum(depths[:s]) + int(parts[3]) + 1
        if parts[2] == 'downsample':
            return sum(depths[:s]) + 1
    return total + 1


def _vit_depth(rest, num_layers):
    if rest.split('.')[0] in ('patch_embed', 'cls_token', 'pos_embed'):
        return 0
    if rest.startswith('layers.'):
        return int(rest.split('.')[1]) + 1
    return num_layers + 1


def encoder_layer_depths(model):
    """{prefix: (kind, size)} of the Swin V2 / ViT encoders inside ``model``."""
    from mmpretrain.models.backbones import SwinTransformerV2
    from mmseg.models.backbones import VisionTransformer
    found = {}
    for name, module in model.named_modules():
        prefix = name + '.' if name else ''
        if isinstance(module, SwinTransformerV2):
            found[prefix] = ('swin', [len(stage.blocks) for stage in module.stages])
        elif isinstance(module, VisionTransformer):
            found[prefix] = ('vit', len(module.layers))
    return found


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-decay constructor with the SkySense release's layer rule.

    For every Swin V2 encoder in the model (the HR encoder, wherever it sits:
    ``backbone.`` in mmseg/mmdet models, ``backbone.hr.`` in SkySense): the patch
    embedding is layer 0, blocks are numbered 1..sum(depths) across stages, a
    stage's downsample gets ``sum(depths[:s]) + 1`` and every other encoder
    parameter ``sum(depths) + 1``; the learning rate is scaled by
    ``decay_rate ** (sum(depths) + 1 - id)`` (0.9^(25 - id) for Swin V2-H). The ViT
    encoders use the counterpart (patch embedding, cls token and positions 0, layer
    i -> i + 1, the rest num_layers + 1). Parameters outside the encoders (necks,
    heads, fusion) keep the base learning rate. As in the release, biases and
    other 1-D parameters get no weight decay (``bias_decay_mult`` and
    ``flat_decay_mult`` default to 0).

    ``paramwise_cfg``: ``decay_rate`` (alias of mmpretrain's ``layer_decay_rate``,
    default 0.9), and mmpretrain's other keys.
    """

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        paramwise_cfg = dict(paramwise_cfg or {})
        paramwise_cfg.setdefault('layer_decay_rate',
                                 paramwise_cfg.pop('decay_rate', 0.9))
        paramwise_cfg.setdefault('bias_decay_mult', 0.0)
        paramwise_cfg.setdefault('flat_decay_mult', 0.0)
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params, module, prefix='', get_layer_depth=None, **kwargs):
        if get_layer_depth is None:
            encoders = encoder_layer_depths(module)
            if not encoders:
                raise ValueError('LayerDecayOptimWrapperConstructor: the model has no '
                                 'Swin V2 or ViT encoder to decay')

            def get_layer_depth(name):
                for p, (kind, size) in encoders.items():
                    if name.startswith(p):
                        rest = name[len(p):]
                        if kind == 'swin':
                            return _swin_depth(rest, size), sum(size) + 2
                        return _vit_depth(rest, size), size + 2
                return 1, 2  # outside the encoders: scale decay**0 = 1

        super().add_params(
            params, module, prefix, get_layer_depth=get_layer_depth, **kwargs)
