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
