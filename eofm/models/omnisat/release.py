"""The layout of OmniSat checkpoints (the reference's Lightning files and eofm's),
for checkpoint inspection (:mod:`eofm.utils.checkpoint_info`)."""
from eofm.utils.checkpoint_info import register_checkpoint_layout

__all__ = ['detect_omnisat']


@register_checkpoint_layout('omnisat')
def detect_omnisat(state, filename):
    """OmniSat's encoder: ``projector_{m}.*``, ``cls_token`` and plain ``blocks``
    without AnySat's spatial transformer. Dashed modality names
    (``projector_s1-asc``) are the reference's (its Lightning files keep the encoder
    under ``model.encoder.``); :func:`.convert_omnisat_reference_state_dict` renames
    them when loading."""
    projectors = sorted({
        k.split('.', 1)[0][len('projector_'):]
        for k in state if k.startswith('projector_')
    })
    if not projectors or 'cls_token' not in state or \
            'blocks.0.attn.qkv.weight' not in state or \
            any(k.startswith('spatial_encoder.') for k in state):
        return None
    reference = any('-' in m for m in projectors)
    n_blocks = next(
        i for i in range(1000) if not any(k.startswith(f'blocks.{i}.') for k in state))
    cross = any(k.startswith(f'blocks.{n_blocks - 1}.attn.q_learned') for k in state)
    return dict(
        model='OmniSat',
        layout=('OmniSat reference encoder (dashed modality names)'
                if reference else 'OmniSat encoder (eofm key names)'),
        types=['eofm.OmniSat'],
        config_hints=['omnisat-pretrain'],
        details=dict(
            embed_dim=state['cls_token'].shape[-1],
            depth=n_blocks - int(cross),
            cross_block=cross,
            modalities=projectors))
