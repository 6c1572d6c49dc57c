"""What a checkpoint file is: model, release layout, size, hash, recorded metadata.

Model packages register *layout detectors* here (:func:`register_checkpoint_layout`),
so that this module knows no model: a detector takes a tensor dict (the file's
weights with a candidate key prefix removed) and returns a description when it
recognises the keys, else None. :func:`inspect_checkpoint` loads a file with
``torch.load(weights_only=True)`` only (plus the globals mmengine writes, see
:mod:`eofm.utils.checkpoint`), unwraps ``state_dict`` / ``model``, tries every
detector on the whole dict and under every one- and two-level key prefix
(``backbone.``, ``model.encoder.``...), and reports the container (a bare tensor
dict, an eofm / mmengine checkpoint with ``meta``, a Lightning file), the parameter
count, the SHA-256, the bands / GSD / normalisation recorded in ``meta`` and the
configs under ``configs/`` that name the file or the model type. Import
:mod:`eofm.models` first (``tools/misc/inspect_checkpoint.py`` does).
"""
import os
import os.path as osp
from collections import OrderedDict

import torch

from .checkpoint import load_checkpoint_safely, sha256_file, split_wrapper

__all__ = [
    'register_checkpoint_layout', 'CHECKPOINT_LAYOUTS', 'inspect_checkpoint',
    'format_checkpoint_info', 'find_configs'
]

#: name -> detector ``fn(state, filename) -> dict | None``. A description has
#: ``model`` (e.g. ``'SkySense'``), ``layout`` (what the file is), optional
#: ``types`` (registered type names of the configs that use it), ``config_hints``
#: (strings a config using this file contains, e.g. the release file name) and
#: ``details`` (a dict of facts: modalities, channels, widths...).
CHECKPOINT_LAYOUTS = OrderedDict()

# Keys of ``meta`` (or of a dict inside it) reported as the weights' data contract.
_META_KEYS = ('bands', 'band_contract', 'gsd', 'normalize', 'normalization',
              'normalisation', 'mean', 'std', 'modalities')


def register_checkpoint_layout(name):
    """Decorator: register a layout detector under ``name`` (see
    :data:`CHECKPOINT_LAYOUTS`)."""

    def wrap(fn):
        if name in CHECKPOINT_LAYOUTS and CHECKPOINT_LAYOUTS[name] is not fn:
            raise KeyError(f'checkpoint layout {name!r} is registered twice')
        CHECKPOINT_LAYOUTS[name] = fn
        return fn

    return wrap


def _container(ckpt, wrapper):
    if not isinstance(ckpt, dict):
        return 'not a dict'
    if 'pytorch-lightning_version' in ckpt or (
            'state_dict' in ckpt and
        ('global_step' in ckpt or 'epoch' in ckpt) and 'meta' not in ckpt):
        return 'Lightning checkpoint (state_dict, epoch, global_step)'
    if isinstance(ckpt.get('meta'), dict) and wrapper == 'state_dict':
        extra = [
            k for k in ('optimizer', 'message_hub', 'param_schedulers') if k in ckpt
        ]
        return 'eofm / mmengine checkpoint (meta, state_dict' + (', ' + ', '.join(extra)
                                                                 if extra else '') + ')'
    if wrapper:
        return f'tensor dict wrapped in {wrapper!r}'
    return 'bare tensor dict'


def _prefixes(keys):
    """'' and the one- and two-level prefixes of the keys ('backbone.', ...)."""
    out = {''}
    for k in keys:
        parts = k.split('.')
        for depth in (1, 2):
            if len(parts) > depth:
                out.add('.'.join(parts[:depth]) + '.')
    return sorted(out, key=lambda p: (p.count('.'), p))


def _detect(state, filename):
    """[(prefix, layout name, description)] of every detector that matches."""
    found = []
    for prefix in _prefixes(state):
        sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        for name, fn in CHECKPOINT_LAYOUTS.items():
            desc = fn(sub, filename)
            if desc:
                found.append((prefix, name, desc))
    # the outermost matches only: a whole model's parts match under longer prefixes
    # (``backbone.hr.`` of a SkySense under ``backbone.``)
    return [(p, n, d) for p, n, d in found
            if not any(p != q and p.startswith(q) for q, _, _ in found)]


def _meta_contract(meta):
    out = {}
    if not isinstance(meta, dict):
        return out
    for key, value in meta.items():
        if key in _META_KEYS:
            out[key] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                if k in _META_KEYS:
                    out[f'{key}.{k}'] = v
    return out


def find_configs(hints, types, configs_dir):
    """Configs under ``configs_dir`` that contain one of ``hints`` (file names) or,
    failing that, one of the registered ``types``: relative paths, best first."""
    if not configs_dir or not osp.isdir(configs_dir):
        return []
    texts = {}
    for dirpath, dirnames, filenames in os.walk(configs_dir):
        dirnames.sort()
        for fname in sorted(filenames):
            if fname.endswith('.py'):
                path = osp.join(dirpath, fname)
                with open(path, encoding='utf-8') as f:
                    texts[osp.relpath(path, osp.dirname(osp.abspath(configs_dir)))] = \
                        f.read()
    for needles in (hints or (), types or ()):
        hits = [p for p, t in texts.items() if any(n in t for n in needles)]
        if hits:
            # task configs before the _base_ models they inherit
            hits.sort(key=lambda p: ('_base_' in p, p))
            return hits
    return []


def inspect_checkpoint(path, configs_dir='configs'):
    """Describe a checkpoint file (see the module docstring).

    Args:
        path (str): The file.
        configs_dir (str, optional): Folder searched for configs that use it.

    Returns:
        dict: ``path``, ``size_bytes``, ``sha256``, ``container``, ``tensors``,
        ``parameters`` (elements of floating-point tensors), ``matches`` (a list of
        ``dict(prefix, layout, model, ...)``, empty when no detector knows it),
        ``meta`` (the recorded data contract: bands, GSD, normalisation) and
        ``configs``.
    """
    if not CHECKPOINT_LAYOUTS:
        raise RuntimeError('inspect_checkpoint: no checkpoint layout is registered; '
                           'import eofm.models first (its packages register them)')
    ckpt = load_checkpoint_safely(path, map_location='cpu')
    state, wrapper = split_wrapper(ckpt)
    if not isinstance(state, dict):
        raise ValueError(f'{path}: not a checkpoint (a {type(state).__name__}, '
                         'expected a dict of tensors)')
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ValueError(f'{path}: holds no tensors (keys: {list(state)[:5]})')
    matches = []
    for prefix, name, desc in _detect(tensors, osp.basename(path)):
        matches.append(dict(desc, prefix=prefix, layout_name=name))
    hints = [h for m in matches for h in m.get('config_hints', ())]
    types = [t for m in matches for t in m.get('types', ())]
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return dict(
        path=path,
        size_bytes=osp.getsize(path),
        sha256=sha256_file(path),
        container=_container(ckpt, wrapper),
        tensors=len(tensors),
        parameters=sum(v.numel() for v in tensors.values() if v.is_floating_point()),
        matches=matches,
        meta=_meta_contract(meta),
        configs=find_configs(hints, types, configs_dir))


def format_checkpoint_info(info, max_configs=8):
    """The report of :func:`inspect_checkpoint` as text (the first ``max_configs``
    configs)."""
    lines = [
        f'file:        {info["path"]} ({info["size_bytes"] / 2**20:.1f} MiB)',
        f'sha256:      {info["sha256"]}', f'container:   {info["container"]}',
        f'tensors:     {info["tensors"]}, parameters: {info["parameters"]:,}'
    ]
    if not info['matches']:
        lines.append('model:       unknown (no registered layout matches its keys)')
    for m in info['matches']:
        at = f' (keys under {m["prefix"]!r})' if m['prefix'] else ''
        lines.append(f'model:       {m["model"]}: {m["layout"]}{at}')
        for k, v in (m.get('details') or {}).items():
            lines.append(f'  {k}: {v}')
    if info['meta']:
        lines.append('recorded in meta:')
        lines += [f'  {k}: {v}' for k, v in info['meta'].items()]
    else:
        lines.append('recorded in meta: no bands / GSD / normalisation')
    lines.append('configs:' + ('' if info['configs'] else ' none found'))
    lines += [f'  {c}' for c in info['configs'][:max_configs]]
    if len(info['configs']) > max_configs:
        lines.append(f'  ... {len(info["configs"]) - max_configs} more')
    return '\n'.join(lines)
