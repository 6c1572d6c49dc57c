"""The layout of AnySat's released weights (``AnySat.pth``), for checkpoint
inspection (:mod:`eofm.utils.checkpoint_info`); the layout itself is described in
:mod:`.anysat`."""
from eofm.utils.checkpoint_info import register_checkpoint_layout

__all__ = ['detect_anysat']


@register_checkpoint_layout('anysat')
def detect_anysat(state, filename):
    """AnySat: ``projector_{m}.*``, ``spatial_encoder.*`` and the cross block's
    learned query ``blocks.{depth}.attn.q_learned`` (``AnySat.pth`` when bare)."""
    projectors = sorted({
        k.split('.', 1)[0][len('projector_'):]
        for k in state if k.startswith('projector_')
    })
    if not projectors or not any(k.startswith('spatial_encoder.') for k in state) \
            or not any(k.endswith('.attn.q_learned') for k in state):
        return None
    dim = state['cls_token'].shape[-1] if 'cls_token' in state else None
    depth = next(
        i for i in range(1000) if not any(k.startswith(f'blocks.{i}.') for k in state))
    arch = 'base' if dim == 768 and depth == 7 else 'custom'
    return dict(
        model='AnySat',
        layout=f'AnySat release layout (as AnySat.pth; arch {arch!r})',
        types=['eofm.AnySat'],
        config_hints=['AnySat.pth'],
        details=dict(
            embed_dim=dim, blocks=f'{depth - 1} + cross block', modalities=projectors))
