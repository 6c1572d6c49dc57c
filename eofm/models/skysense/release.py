"""The key layout of SkySense's six released files and of eofm's one checkpoint.

Release files (see ``configs/skysense/README.md``) and where their keys live in
:class:`eofm.models.SkySense` (``backbone.`` in a full model)::

    skysense_model_backbone_hr.pth  backbone.<k>       -> hr.<k>  (+ mask_token)
    skysense_model_backbone_s2.pth  <k>, ctpe          -> s2.<k>, fusion.ctpe
    skysense_model_backbone_s1.pth  <k>                -> s1.<k>
    skysense_model_head_s2.pth      decoder.0.*        -> up_heads.s2.decoder.0.*
    skysense_model_head_s1.pth      decoder.0.*        -> up_heads.s1.decoder.0.*
    skysense_model_fusion.pth       porj_linear.*, cls_token, layers.N.*  -> fusion.<k>

:func:`merge_release` turns the six files into one eofm state dict (keys under
``backbone.``) plus a record of each file's wrapper, prefix and extra tensors, so
that :func:`split_release` gives the files back exactly (a lossless round trip).
"""

from eofm.utils.checkpoint_info import register_checkpoint_layout
from ..common.pretrained import split_wrapper

__all__ = ['RELEASE_FILES', 'merge_release', 'split_release', 'release_layout']

# file role -> (release file name, SkySense attribute path, default key prefix)
RELEASE_FILES = {
    'hr': ('skysense_model_backbone_hr.pth', 'hr', 'backbone.'),
    's2': ('skysense_model_backbone_s2.pth', 's2', ''),
    's1': ('skysense_model_backbone_s1.pth', 's1', ''),
    'head_s2': ('skysense_model_head_s2.pth', 'up_heads.s2', ''),
    'head_s1': ('skysense_model_head_s1.pth', 'up_heads.s1', ''),
    'fusion': ('skysense_model_fusion.pth', 'fusion', ''),
}
# Tensors a file holds for another module: the fusion's date table (Eq. 2) is stored
# with the Sentinel-2 encoder in the release.
RELOCATED = {'s2': {'ctpe': 'fusion.ctpe'}}
# Tensors the files hold that no eofm module owns (kept aside for the round trip).
EXTRA_KEYS = {'hr': ('mask_token', )}
# Buffers eofm modules rebuild and the release does not hold.
_NOT_RELEASED = ('relative_coords_table', 'relative_position_index')


def _prefix_of(state, default):
    """The prefix every key of a file carries: its default or 'backbone.' (some
    copies of the files add or drop it)."""
    for prefix in (default, 'backbone.'):
        if prefix and state and all(k.startswith(prefix) for k in state):
            return prefix
    return ''


def merge_release(files, root='backbone.'):
    """One eofm checkpoint from loaded release files.

    Args:
        files (dict): Role ('hr', 's2', 's1', 'head_s2', 'head_s1', 'fusion') ->
            the loaded checkpoint object of that file (any subset).
        root (str): Prefix of the SkySense backbone in the merged state dict.

    Returns:
        dict: ``{'state_dict': ..., 'meta': {'skysense_release': record}}``.
    """
    state, record = {}, {}
    for role, ckpt in files.items():
        if role not in RELEASE_FILES:
            raise KeyError(f'merge_release: unknown file role {role!r}; expected one '
                           f'of {list(RELEASE_FILES)}')
        name, attr, default_prefix = RELEASE_FILES[role]
        tensors, wrapper = split_wrapper(ckpt)
        prefix = _prefix_of(tensors, default_prefix)
        extra = {}
        for key, value in tensors.items():
            k = key[len(prefix):]
            if k in EXTRA_KEYS.get(role, ()):
                extra[k] = value
            elif k in RELOCATED.get(role, {}):
                state[root + RELOCATED[role][k]] = value
            else:
                state[f'{root}{attr}.{k}'] = value
        record[role] = dict(
            file=name, wrapper=wrapper, prefix=prefix, keys=list(tensors), extra=extra)
    return dict(state_dict=state, meta=dict(skysense_release=record))


def release_layout(state_dict, root='backbone.'):
    """The release files' tensor dicts (default layout) of an eofm state dict."""
    files = {}
    moved = {root + to: (role, k) for role, keys in RELOCATED.items() for k, to in keys.items()}
    for role, (_, attr, prefix) in RELEASE_FILES.items():
        p = f'{root}{attr}.'
        part = {
            prefix + k[len(p):]: v
            for k, v in state_dict.items()
            if k.startswith(p) and not k.endswith(_NOT_RELEASED) and k not in moved
        }
        part.update({
            prefix + k: state_dict[key]
            for key, (r, k) in moved.items() if r == role and key in state_dict
        })
        if part:
            files[role] = part
    return files


def split_release(checkpoint, root='backbone.'):
    """The release files (role -> checkpoint object) of a merged eofm checkpoint.

    With the record of :func:`merge_release` every file comes back as it was (key
    order, prefix, wrapper, extra tensors); without one, in the default layout.
    """
    state = checkpoint.get('state_dict', checkpoint)
    record = (checkpoint.get('meta') or {}).get('skysense_release') or {}
    files = release_layout(state, root)
    out = {}
    for role, tensors in files.items():
        info = record.get(role)
        if info is None:
            out[role] = tensors
            continue
        _, _, default_prefix = RELEASE_FILES[role]
        unprefixed = {
            k[len(default_prefix):] if default_prefix and k.startswith(default_prefix) else k:
            v
            for k, v in tensors.items()
        }
        unprefixed.update(info['extra'])
        by_key = {info['prefix'] + k: v for k, v in unprefixed.items()}
        missing = [k for k in info['keys'] if k not in by_key]
        if missing:
            raise KeyError(f'split_release: {info["file"]} needs {missing[:3]}, which '
                           'the merged checkpoint lacks')
        ordered = {k: by_key[k] for k in info['keys']}
        out[role] = {info['wrapper']: ordered} if info['wrapper'] else ordered
    return out


# ----------------------------------------------------------------- layout detectors
def _count_blocks(state, fmt, stop=1000):
    return next(i for i in range(stop + 1) if not any(
        k.startswith(fmt.format(i)) for k in state))


def _swin_v2_details(state):
    w = state['patch_embed.projection.weight']
    depths = []
    for s in range(8):
        if not any(k.startswith(f'stages.{s}.') for k in state):
            break
        depths.append(_count_blocks(state, f'stages.{s}.blocks.{{}}.'))
    return dict(embed_dims=w.shape[0], in_channels=w.shape[1], depths=depths)


def _vit_details(state):
    w = state['patch_embed.projection.weight']
    return dict(embed_dims=w.shape[0], in_channels=w.shape[1],
                num_layers=_count_blocks(state, 'layers.{}.'))


def _is_swin_v2(state):
    return 'patch_embed.projection.weight' in state and any(
        k.startswith('stages.') and '.attn.w_msa.cpb_mlp.' in k for k in state)


def _is_vit(state):
    return 'patch_embed.projection.weight' in state and any(
        k.startswith('layers.') and k.endswith('.attn.attn.in_proj_weight')
        for k in state)


def _file_hint(role):
    """Strings of configs that load a release file: its name, or its role in
    ``'skysense_model_{}.pth'.format(...)``."""
    name = RELEASE_FILES[role][0]
    stem = name[len('skysense_model_'):-len('.pth')]
    return [name, f"format('{stem}')"]


def _release_file(role, details, note=''):
    name = RELEASE_FILES[role][0]
    return dict(model='SkySense', layout=f'release file {name}{note}',
                types=['eofm.SkySense'], config_hints=_file_hint(role),
                details=details)


@register_checkpoint_layout('skysense_release_hr')
def detect_skysense_hr(state, filename):
    """``skysense_model_backbone_hr.pth``: the Swin V2 HR encoder (keys under
    ``backbone.`` in the release; a pretraining ``mask_token`` beside them)."""
    if not _is_swin_v2(state):
        return None
    details = _swin_v2_details(state)
    details['mask_token'] = 'mask_token' in state
    return _release_file('hr', details, ' (Swin V2 HR encoder)')


@register_checkpoint_layout('skysense_release_sentinel')
def detect_skysense_sentinel(state, filename):
    """``skysense_model_backbone_s2.pth`` (ViT with the calendar-time table
    ``ctpe``) or ``..._s1.pth`` (ViT without it)."""
    if not _is_vit(state):
        return None
    details = _vit_details(state)
    if 'ctpe' in state:
        details['ctpe'] = tuple(state['ctpe'].shape)
        return _release_file('s2', details, ' (Sentinel-2 ViT encoder)')
    return _release_file('s1', details, ' (Sentinel-1 ViT encoder)')


@register_checkpoint_layout('skysense_release_head')
def detect_skysense_head(state, filename):
    """``skysense_model_head_s2.pth`` / ``..._s1.pth``: the same layout (one 1 x 1
    convolution); the file name tells them apart."""
    if set(state) != {'decoder.0.weight', 'decoder.0.bias'}:
        return None
    w = state['decoder.0.weight']
    details = dict(in_channels=w.shape[1], out_channels=w.shape[0])
    roles = [r for r in ('head_s2', 'head_s1') if RELEASE_FILES[r][0] == filename]
    if roles:
        return _release_file(roles[0], details, ' (up head)')
    return dict(model='SkySense', layout='release file skysense_model_head_s2.pth or '
                '..._head_s1.pth (up head; the two share one layout, the file name '
                'decides)', types=['eofm.SkySense'],
                config_hints=_file_hint('head_s2') + _file_hint('head_s1'),
                details=details)


@register_checkpoint_layout('skysense_release_fusion')
def detect_skysense_fusion(state, filename):
    """``skysense_model_fusion.pth``: the multi-modal temporal fusion (the
    release's ``porj_linear`` spelling)."""
    if 'porj_linear.weight' not in state:
        return None
    w = state['porj_linear.weight']
    return _release_file('fusion', dict(
        embed_dims=w.shape[0], in_channels=w.shape[1],
        num_layers=_count_blocks(state, 'layers.{}.')), ' (temporal fusion)')


@register_checkpoint_layout('skysense_model')
def detect_skysense_model(state, filename):
    """An eofm SkySense state dict (``hr.``, ``s2.``, ``s1.``, ``fusion.``,
    ``up_heads.``), e.g. ``skysense2eofm.py merge`` output or a trained model's
    ``backbone.``."""
    parts = {
        role: attr
        for role, (_, attr, _) in RELEASE_FILES.items()
        if any(k.startswith(attr + '.') for k in state)
    }
    if 'hr' not in parts and 's2' not in parts and 's1' not in parts:
        return None
    sub = {r: {k[len(a) + 1:]: v for k, v in state.items() if k.startswith(a + '.')}
           for r, a in parts.items()}
    if not all((_is_swin_v2 if r == 'hr' else _is_vit)(sub[r])
               for r in ('hr', 's2', 's1') if r in sub):
        return None
    details = dict(parts=sorted(parts))
    if 'hr' in sub:
        details['hr'] = _swin_v2_details(sub['hr'])
    for r in ('s2', 's1'):
        if r in sub:
            details[r] = _vit_details(sub[r])
    return dict(model='SkySense', layout='eofm SkySense state dict (' +
                ', '.join(sorted(parts)) + ')', types=['eofm.SkySense'],
                config_hints=['skysense_eofm.pth'], details=details)
