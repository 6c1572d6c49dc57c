"""Strict loading of released weights into one eofm module.

MMEngine's ``PretrainedInit`` loads with ``strict=False`` and only logs what did not
match, so a wrong file (an S1 encoder file given to the S2 encoder, a Swin V1
checkpoint...) trains silently from partly random weights. eofm modules that load
official files call :func:`load_pretrained` from their ``init_weights`` instead: it
accepts the layouts the releases come in (wrapped in ``state_dict`` / ``model`` or
not, with or without the ``prefix``) and raises an error naming the module and the
first missing, unexpected and mis-shaped keys.
"""
import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from eofm.utils.checkpoint import (CheckpointMismatchError, compare_state_dicts,
                                   mismatch_message, pretrained_init_cfg, split_wrapper,
                                   unwrap_state_dict)

__all__ = [
    'PretrainedMismatchError', 'load_pretrained', 'unwrap_state_dict',
    'pretrained_init_cfg'
]


class PretrainedMismatchError(CheckpointMismatchError):
    """The checkpoint does not fit the module."""


def select_prefix(state_dict, prefix):
    """Keys under ``prefix.`` with the prefix removed; all keys when none has it."""
    if not prefix:
        return dict(state_dict)
    p = prefix.rstrip('.') + '.'
    picked = {k[len(p):]: v for k, v in state_dict.items() if k.startswith(p)}
    return picked if picked else dict(state_dict)


def load_pretrained(module,
                    checkpoint,
                    prefix=None,
                    ignore_keys=(),
                    allow_missing=(),
                    convert=None,
                    max_listed=5,
                    source=None,
                    hint=None):
    """Load a release file into ``module``; raise on any mismatch.

    Args:
        module (nn.Module): The eofm module.
        checkpoint (str | dict): A path/URL (read with MMEngine's loaders, which
            eofm makes safe) or an already loaded checkpoint.
        prefix (str, optional): Keys' prefix in the file (``'backbone'``); files
            without it load as they are.
        ignore_keys (Sequence[str]): Keys of the file that belong elsewhere and are
            skipped (logged), e.g. ``mask_token`` of the pretraining.
        allow_missing (Sequence[str]): Regular expressions (matched at the start
            of the key) of module keys that may stay at their initialisation, e.g.
            output norms or rebuilt buffers the release does not hold.
        convert (callable, optional): ``state_dict -> state_dict`` applied after
            the prefix selection (e.g. channel adaptation).
        source (str, optional): What to call an already loaded ``checkpoint`` in
            messages (its file name).
        hint (str, optional): Last line of the mismatch error (what to check).

    Returns:
        dict: ``missing`` (allowed ones), ``ignored`` keys.
    """
    name = type(module).__name__
    if isinstance(checkpoint, str):
        where = checkpoint
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    else:
        where, ckpt = source or 'the given checkpoint', checkpoint
    state = select_prefix(unwrap_state_dict(ckpt), prefix)
    ignored = [k for k in state if k in set(ignore_keys)]
    for k in ignored:
        state.pop(k)
    if convert is not None:
        state = convert(state)
    result = compare_state_dicts(module.state_dict(), state, allow_missing)
    allowed = result['allowed_missing']
    if result['missing'] or result['unexpected'] or result['shapes']:
        raise PretrainedMismatchError(
            mismatch_message(
                f'{name}: {where} does not fit this module',
                result,
                max_listed,
                hint=hint or '  Is it the file of this module (hr / s2 / s1 / head / '
                'fusion), and does the config match its architecture?',
                note=f'prefix={prefix!r}',
                sides=('file', 'module')))
    with torch.no_grad():
        module.load_state_dict(state, strict=False)
    print_log(
        f'{name}: loaded {len(state)} tensors from {where}' +
        (f'; skipped {ignored}' if ignored else '') +
        (f'; kept initialised {len(allowed)} keys ({allowed[:3]}...)'
         if allowed else ''),
        logger='current')
    return dict(missing=allowed, ignored=ignored)


def modality_band_converts(owner, layers, bands, trained_bands, band_policy,
                           checkpoint, source, trained_hint='trained_bands.{m}'):
    """Band-contract converts of the per-modality input layers of a multi-modal
    encoder (AnySat, OmniSat) for the modalities whose ``bands`` are given.

    Args:
        owner (str): The encoder's name, in messages.
        layers (dict): Modality -> (input-layer weight key, channels per band).
        bands (dict): Modality -> the data's band names.
        trained_bands (dict): Modality -> the weights' band names, used when the
            checkpoint's data contract does not record them.
        band_policy (dict): ``dict(missing=..., extra=...)`` for all modalities, or
            modality -> such a dict.
        checkpoint (dict): The loaded checkpoint (its ``meta`` may hold the contract).
        source (str): The checkpoint's name, in messages.
        trained_hint (str): The setting that names the trained bands (``{m}``: the
            modality), quoted when they are unknown.
    """
    from eofm.utils.checkpoint import data_contract_of
    contract = data_contract_of(checkpoint)
    policy = dict(band_policy or {})
    out = []
    for m, given in (bands or {}).items():
        trained = (contract.get(m) or {}).get('bands') or (trained_bands or {}).get(m)
        if not trained:
            raise ValueError(f'{owner}: {m} bands given but the bands of the weights in '
                             f'{source} are unknown: set {trained_hint.format(m=m)}')
        key, group = layers[m]
        per_modality = any(isinstance(v, dict) for v in policy.values())
        p = policy.get(m, {}) if per_modality else policy
        out.append(band_contract_convert(f'{owner}.{m}', key, tuple(trained),
                                         tuple(given), p, source=source, group=group))
    return out


def chain_converts(*converts):
    """One ``convert`` applying ``converts`` (None entries skipped) in order."""
    fns = [c for c in converts if c is not None]

    def convert(state):
        for fn in fns:
            state = fn(state)
        return state

    return convert


def band_contract_args(owner, bands, in_channels, band_policy):
    """An encoder's ``bands`` (a tuple, or None) and ``band_policy`` (a dict),
    checked: ``bands`` names each of the ``in_channels`` input channels."""
    if bands is not None and len(bands) != in_channels:
        raise ValueError(f'{owner}: {len(bands)} bands {list(bands)} for '
                         f'in_channels={in_channels}')
    return (None if bands is None else tuple(bands)), dict(band_policy or {})


def band_contract_convert(module_name, weight_key, trained, given, policy=None,
                          stats=None, source='', group=1):
    """A ``convert`` for :func:`load_pretrained` that adapts the input layer
    ``weight_key`` (and its ``.bias``) from ``trained`` to ``given`` bands by name
    (:func:`eofm.structures.bands.adapt_input_kernel`; ``policy`` holds ``missing``
    and ``extra``) and logs what it did once. ``group``: input channels per band,
    band-major (OmniSat's series projectors take each band's ``k x k`` pixels of a
    patch as channels)."""
    from eofm.structures.bands import adapt_input_kernel
    policy = dict(policy or {})
    unknown = set(policy) - {'missing', 'extra'}
    if unknown:
        raise ValueError(f'{module_name}: band_policy takes missing / extra, got '
                         f'{sorted(unknown)}')
    bias_key = weight_key[:-len('weight')] + 'bias'

    def convert(state):
        if weight_key not in state:
            return state
        state = dict(state)
        w0 = state[weight_key]
        if group > 1:  # (D, C * g) -> (D, C, g): one kernel slice per band
            w0 = w0.reshape(w0.shape[0], -1, group, *w0.shape[2:])
        w, b, msg = adapt_input_kernel(
            w0, state.get(bias_key), trained, given,
            policy.get('missing', 'error'), policy.get('extra', 'error'), stats,
            where=f'{module_name} ({source})' if source else module_name)
        if group > 1:
            w = w.reshape(w.shape[0], -1, *w.shape[3:]).contiguous()
        state[weight_key] = w
        if b is not None:
            state[bias_key] = b
        if msg:
            print_log(msg, logger='current')
        return state

    return convert
