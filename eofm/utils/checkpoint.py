"""Safe loading and atomic saving of checkpoints on torch >= 2.6 with mmengine 0.10.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors, containers
and an allow-list of globals. mmengine's runner also stores its message hub
(``HistoryBuffer`` objects holding numpy arrays, and the buffers' statistics methods
pickled as ``getattr(HistoryBuffer, 'mean')``), so mmengine 0.10.7 cannot load its own
checkpoints. Rather than switching ``weights_only`` off (which would let any ``.pth``
execute code), eofm keeps it on and adds exactly the globals mmengine writes:

* ``HistoryBuffer`` and numpy's array / dtype / scalar reconstruction functions;
* a *restricted* ``getattr`` that only returns the statistics methods of
  ``HistoryBuffer`` and refuses anything else.

A file that needs anything beyond that still fails, with torch's message naming the
offending global. A file that is empty or truncated fails naming its path
(:class:`CheckpointFileError`), and so does a ``last_checkpoint`` pointer that is
empty or names a missing file (:func:`find_latest_checkpoint`).

Weights go into a model *strictly* (:func:`load_state_dict_strictly`): every key that
is missing, unexpected or mis-shaped is an error naming the keys, except the ones a
model declares as expected in a ``checkpoint_exceptions`` class attribute (or in
:func:`register_checkpoint_exceptions` for a host library's class), e.g. buffers the
model rebuilds from its arguments. ``load_strict=False`` in a config (``load_from``,
``--resume``) or ``strict=False`` in ``init_cfg=dict(type='Pretrained', ...)`` turns
the errors back into mmengine's warnings.

Checkpoints are written atomically through a hidden temporary file beside the target,
named ``.<name>.<8 random characters>.eofm-tmp``; a write killed mid-way leaves one
behind, and :func:`remove_stale_temp_files` (run by the runner set-up at the next start)
removes files of exactly that pattern.
"""
import contextlib
import functools
import hashlib
import os
import os.path as osp
import pickle
import re
import tempfile
from collections import OrderedDict

import numpy as np
import torch

__all__ = [
    'sha256_file', 'mmengine_safe_globals', 'load_checkpoint_safely', 'install_safe_local_loader',
    'atomic_write_bytes', 'save_checkpoint_atomically', 'install_atomic_local_writes',
    'split_wrapper', 'unwrap_state_dict', 'pretrained_init_cfg', 'CheckpointFileError',
    'CheckpointMismatchError', 'register_checkpoint_exceptions', 'checkpoint_exceptions',
    'compare_state_dicts', 'mismatch_message', 'load_state_dict_strictly',
    'find_latest_checkpoint', 'remove_stale_temp_files', 'TEMP_SUFFIX',
    'DATA_CONTRACT_KEY', 'data_contract_of'
]

_BUILTIN_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def sha256_file(path, chunk=1 << 20):
    """Hex sha256 of a file, read in chunks (checkpoints are large)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


#: ``meta`` key of the data contract eofm writes into checkpoints (bands, GSD,
#: scaling and normalisation per modality; :class:`eofm.DataContractHook`).
DATA_CONTRACT_KEY = 'eofm_data_contract'


def data_contract_of(checkpoint):
    """The data contract of a checkpoint (a loaded dict, or a local path read
    memory-mapped); {} when it records none. A path that is not a readable file
    gives {} too: the checkpoint loader names its problem."""
    if isinstance(checkpoint, str):
        if not osp.isfile(checkpoint):
            return {}
        try:
            checkpoint = load_checkpoint_safely(checkpoint, map_location='cpu', mmap=True)
        except Exception:  # noqa: BLE001 - reported by the loader
            return {}
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    contract = meta.get(DATA_CONTRACT_KEY) if isinstance(meta, dict) else None
    return dict(contract) if isinstance(contract, dict) else {}


def _restricted_getattr(obj, name, *default):
    """``getattr`` for unpickling: only ``HistoryBuffer`` statistics methods."""
    from mmengine.logging import HistoryBuffer

    # The built-in statistics are registered lazily by the first HistoryBuffer(),
    # custom ones by ``HistoryBuffer.register_statistics``.
    allowed = _BUILTIN_STATISTICS.union(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(obj, name)
    raise RuntimeError(
        f'checkpoint refused: it asks for getattr({obj!r}, {name!r}), which is not '
        'an mmengine HistoryBuffer statistics method. Only weights and mmengine '
        'runner state are loaded safely; re-save the file with plain tensors.')


def mmengine_safe_globals():
    """The globals, beyond torch's defaults, that mmengine 0.10 checkpoints contain."""
    from mmengine.logging import HistoryBuffer
    from numpy._core import multiarray
    dtype_classes = [
        getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')
    ]
    return [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        (_restricted_getattr, 'builtins.getattr'),
        *dtype_classes,
    ]


def load_checkpoint_safely(filename, map_location=None, mmap=False):
    """``torch.load`` with ``weights_only=True`` plus mmengine's runner state.

    Args:
        filename (str): Path of a local checkpoint file.
        map_location: As for :func:`torch.load`.
        mmap (bool): Memory-map the file (reads only the tensors used).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointFileError(
            f'checkpoint {filename} is empty (0 bytes): the write that made it was '
            'interrupted, or it is not a checkpoint. Resume from an earlier one.')
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True, mmap=mmap)
        except pickle.UnpicklingError:
            raise  # refused by weights_only: torch's message names the global
        except (RuntimeError, EOFError, ValueError, OSError) as e:
            if 'checkpoint refused' in str(e):
                raise
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CheckpointFileError(
                f'checkpoint {filename} ({size} bytes) can not be read: it is '
                f'truncated or not a torch checkpoint ({first}).') from e


def install_safe_local_loader():
    """Make :class:`mmengine.runner.CheckpointLoader` use the safe loader for paths."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_checkpoint_safely)


class CheckpointFileError(RuntimeError):
    """A checkpoint file or ``last_checkpoint`` pointer that can not be used."""


class CheckpointMismatchError(RuntimeError):
    """The checkpoint does not fit the model it is loaded into."""


#: Suffix of the temporary files of atomic writes (see :func:`remove_stale_temp_files`).
TEMP_SUFFIX = '.eofm-tmp'
# ``.<target name>.<mkstemp's 8 characters>.eofm-tmp``
_TEMP_PATTERN = re.compile(r'^\..+\.[a-z0-9_]{8}' + re.escape(TEMP_SUFFIX) + '$')


@contextlib.contextmanager
def _atomic_file(filepath, mode='wb'):
    """A temporary file beside ``filepath`` that replaces it once written and synced.

    A reader sees either the old file or the complete new one, never a truncated file.
    """
    filepath = str(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(filepath) + '.', suffix=TEMP_SUFFIX, dir=dirname)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(data, filepath, mode='wb'):
    """Write ``data`` to ``filepath`` atomically (see :func:`_atomic_file`)."""
    with _atomic_file(filepath, mode) as f:
        f.write(data)


def save_checkpoint_atomically(obj, filepath):
    """``torch.save`` ``obj`` to ``filepath`` atomically, streaming (no in-memory copy
    of a multi-GB checkpoint)."""
    with _atomic_file(filepath, 'wb') as f:
        torch.save(obj, f)


def install_atomic_local_writes():
    """Route mmengine's local ``put``/``put_text`` (checkpoints, ``last_checkpoint``)
    through :func:`atomic_write_bytes`."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    if getattr(LocalBackend.put, '_eofm_atomic', False):
        return

    def put(self, obj, filepath):
        atomic_write_bytes(obj, filepath, 'wb')

    def put_text(self, obj, filepath, encoding='utf-8'):
        atomic_write_bytes(obj.encode(encoding), filepath, 'wb')

    put._eofm_atomic = True
    put.__doc__ = LocalBackend.put.__doc__
    put_text.__doc__ = LocalBackend.put_text.__doc__
    LocalBackend.put = put
    LocalBackend.put_text = put_text


def split_wrapper(ckpt):
    """``(tensors, wrapper)`` of a checkpoint: the dict under ``state_dict`` or
    ``model`` and that key, or ``ckpt`` itself and None."""
    for key in ('state_dict', 'model'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key], key
    return ckpt, None


def unwrap_state_dict(ckpt):
    """The tensor dict of a checkpoint (see :func:`split_wrapper`)."""
    return split_wrapper(ckpt)[0]


def pretrained_init_cfg(init_cfg):
    """``(checkpoint, prefix)`` of a ``type='Pretrained'`` init_cfg, else None."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for cfg in cfgs:
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            return cfg['checkpoint'], cfg.get('prefix')
    return None


def remove_stale_temp_files(dirname):
    """Remove the temporary files that killed atomic writes left in ``dirname``.

    Only files named as :func:`_atomic_file` names them are touched; call this at
    the start of a run, before anything writes there. Returns the removed paths.
    """
    if not osp.isdir(dirname):
        return []
    removed = []
    for name in sorted(os.listdir(dirname)):
        path = osp.join(dirname, name)
        if _TEMP_PATTERN.match(name) and osp.isfile(path):
            try:
                os.remove(path)
            except FileNotFoundError:  # another process of the run removed it
                continue
            removed.append(path)
    return removed


def atomic_open(file, mode='r', *args, **kwargs):
    """``open`` whose writes to a file named ``last_checkpoint`` are atomic.

    mmengine's ``CheckpointHook`` writes that pointer with a plain ``open()``; a
    process killed during the write leaves it empty. Everything else is passed to
    :func:`open` unchanged.
    """
    if (isinstance(file, (str, os.PathLike)) and osp.basename(os.fspath(file)) ==
            'last_checkpoint' and mode in ('w', 'wt', 'wb') and not args and not kwargs):
        return _atomic_file(os.fspath(file), mode)
    return open(file, mode, *args, **kwargs)


def find_latest_checkpoint(path):
    """The checkpoint named in ``path/last_checkpoint``, or None without that file.

    mmengine's version returns ``''`` for an empty pointer, and both an empty pointer
    and one naming a deleted file end in "checkpoint can not be found." with no path;
    here both are errors naming the pointer and what it holds.
    """
    from mmengine.logging import print_log
    save_file = osp.join(path, 'last_checkpoint')
    if not osp.exists(save_file):
        print_log('Did not find last_checkpoint to be resumed.', logger='current')
        return None
    with open(save_file) as f:
        last_saved = f.read().strip()
    if not last_saved:
        raise CheckpointFileError(
            f'{save_file} is empty; it should hold the path of the checkpoint to '
            'resume from. Give one with --resume PATH, or delete the file to start '
            'from scratch.')
    if '://' not in last_saved and not osp.isfile(last_saved):
        raise CheckpointFileError(
            f'{save_file} points to {last_saved}, which does not exist. Give a '
            'checkpoint with --resume PATH, or delete the file to start from scratch.')
    return last_saved


# ------------------------------------------------------------------ strict loading
#: ``{class: dict(missing=(...), unexpected=(...))}`` for classes eofm does not own.
_EXCEPTIONS_REGISTRY = {}


def register_checkpoint_exceptions(cls, missing=(), unexpected=()):
    """Declare the expected checkpoint mismatches of a class eofm does not own.

    Args:
        cls (type): A module class of a host library.
        missing (Sequence[str]): Regular expressions, matched at the start of the
            key relative to the module, of the module's keys a checkpoint may lack
            (kept as initialised, e.g. buffers rebuilt from the arguments).
        unexpected (Sequence[str]): Expressions of checkpoint keys that may be
            present and are skipped (e.g. pretraining-only parameters).
    """
    _EXCEPTIONS_REGISTRY[cls] = dict(missing=tuple(missing), unexpected=tuple(unexpected))
    return cls


def _declared(cls):
    out = dict(missing=[], unexpected=[])
    for klass in cls.__mro__:
        decl = klass.__dict__.get('checkpoint_exceptions') or _EXCEPTIONS_REGISTRY.get(
            klass)
        if decl:
            for kind in out:
                out[kind].extend(decl.get(kind, ()))
    return out


def checkpoint_exceptions(model):
    """``(missing, unexpected)`` patterns on full keys that ``model``'s modules declare.

    Each module class may declare ``checkpoint_exceptions = dict(missing=(...),
    unexpected=(...))`` (regular expressions relative to the module, matched at the
    start); they apply below every instance of the class in ``model``.
    """
    missing, unexpected = [], []
    for name, module in model.named_modules():
        decl = _declared(type(module))
        prefix = re.escape(name + '.') if name else ''
        missing += [prefix + p for p in decl['missing']]
        unexpected += [prefix + p for p in decl['unexpected']]
    return missing, unexpected


def _matches(key, patterns):
    return any(re.match(p, key) for p in patterns)


def compare_state_dicts(own, state, allow_missing=(), allow_unexpected=()):
    """Keys of ``state`` (a checkpoint) against ``own`` (a module's ``state_dict``).

    Returns:
        dict: ``missing``, ``unexpected`` (lists of keys, the allowed ones left out),
        ``shapes`` (``(key, checkpoint shape, module shape)``), ``allowed_missing``,
        ``allowed_unexpected``.
    """
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [(k, tuple(state[k].shape), tuple(own[k].shape)) for k in own
              if k in state and hasattr(state[k], 'shape')
              and tuple(state[k].shape) != tuple(own[k].shape)]
    return dict(
        missing=[k for k in missing if not _matches(k, allow_missing)],
        unexpected=[k for k in unexpected if not _matches(k, allow_unexpected)],
        shapes=shapes,
        allowed_missing=[k for k in missing if _matches(k, allow_missing)],
        allowed_unexpected=[k for k in unexpected if _matches(k, allow_unexpected)])


def mismatch_message(head, result, max_listed=5, hint=None, note=None,
                     sides=('checkpoint', 'model')):
    """The error text for a :func:`compare_state_dicts` result: ``head`` with the
    counts (and ``note``), then the first ``max_listed`` keys of each kind and both
    shapes (``sides`` names the two), then ``hint``."""
    missing, unexpected, shapes = result['missing'], result['unexpected'], result[
        'shapes']
    note = f'; {note}' if note else ''
    lines = [
        f'{head} ({len(missing)} missing, {len(unexpected)} unexpected, '
        f'{len(shapes)} mis-shaped keys{note}).'
    ]
    for kind, keys in (('missing', missing), ('unexpected', unexpected)):
        if keys:
            more = f' (first {max_listed} of {len(keys)})' if len(keys) > max_listed else ''
            lines.append(f'  {kind}: {keys[:max_listed]}{more}')
    for k, got, want in shapes[:max_listed]:
        lines.append(f'  {k}: {sides[0]} {got}, {sides[1]} {want}')
    if len(shapes) > max_listed:
        lines.append(f'  ... and {len(shapes) - max_listed} more mis-shaped keys')
    if hint:
        lines.append(hint)
    return '\n'.join(lines)


#: Last line of a strict-loading error: what to check and how to proceed anyway.
STRICT_HINT = (
    '  Is it the checkpoint of this model and does the config match its '
    'architecture? To load it anyway, with the keys above left as initialised, set '
    'load_strict=False in the config (load_from, --resume) or strict=False in '
    "init_cfg=dict(type='Pretrained', ...).")


def load_state_dict_strictly(module, state_dict, where, max_listed=5):
    """Load ``state_dict`` into ``module``; raise on any mismatch it does not declare.

    Missing, unexpected and mis-shaped keys are compared before loading, so that a
    module's own load hooks (which may drop rebuilt buffers or resize position
    embeddings) neither hide nor invent mismatches; what the module declares in
    :func:`checkpoint_exceptions` is allowed without a word. Allowed unexpected keys
    are not loaded.

    Args:
        module (nn.Module): The model (unwrapped).
        state_dict (dict): Tensors, keys as in ``module.state_dict()``.
        where (str): The checkpoint's name in the error.

    Raises:
        CheckpointMismatchError: naming the first ``max_listed`` keys of each kind,
            their counts and, for mis-shaped keys, both shapes.
    """
    allow_missing, allow_unexpected = checkpoint_exceptions(module)
    own = module.state_dict()
    result = compare_state_dicts(own, state_dict, allow_missing, allow_unexpected)
    if result['missing'] or result['unexpected']:
        raise CheckpointMismatchError(
            mismatch_message(f'{type(module).__name__}: {where} does not fit this model',
                             result, max_listed, STRICT_HINT))
    skip = set(result['allowed_unexpected'])
    state = OrderedDict((k, v) for k, v in state_dict.items() if k not in skip)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        state._metadata = metadata
    try:
        module.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shapes the module's load hooks did not adapt
        if not result['shapes']:
            raise CheckpointMismatchError(f'{where}: {e}') from e
        raise CheckpointMismatchError(
            mismatch_message(f'{type(module).__name__}: {where} does not fit this model',
                             result, max_listed, STRICT_HINT)) from None
    return result


def _revised_state_dict(checkpoint, revise_keys):
    """The model tensors of a runner checkpoint as mmengine reads them."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for p, r in revise_keys:
        state_dict = OrderedDict((re.sub(p, r, k), v) for k, v in state_dict.items())
    state_dict._metadata = metadata
    return state_dict


def runner_load_checkpoint(self,
                           filename,
                           map_location='cpu',
                           strict=None,
                           revise_keys=((r'^module.', ''), )):
    """:meth:`mmengine.runner.Runner.load_checkpoint`, strict by default.

    ``strict=None`` (what ``load_from`` and ``--resume`` pass) takes the config's
    ``load_strict`` (default True): mismatches the model does not declare are errors
    (:func:`load_state_dict_strictly`). ``load_strict=False`` keeps mmengine's
    behaviour (a warning).
    """
    from mmengine.model import is_model_wrapper
    from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model
    if strict is None:
        strict = bool(self.cfg.get('load_strict', True))
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = self.model.module if is_model_wrapper(self.model) else self.model
    if strict:
        load_state_dict_strictly(
            model, _revised_state_dict(checkpoint, revise_keys), str(filename))
    else:
        _load_checkpoint_to_model(model, checkpoint, False, revise_keys=list(revise_keys))
    self._has_loaded = True
    self.logger.info(f'Load checkpoint from {filename}')
    return checkpoint


def install_strict_loading():
    """Make the runner's ``load_checkpoint``, ``find_latest_checkpoint`` and mmengine's
    ``PretrainedInit`` strict and path-naming; make ``last_checkpoint`` atomic."""
    import mmengine.hooks.checkpoint_hook as checkpoint_hook
    import mmengine.runner.runner as runner_module
    from mmengine.model.weight_init import PretrainedInit
    if getattr(runner_module.Runner.load_checkpoint, '_eofm_strict', False):
        return
    runner_load_checkpoint._eofm_strict = True
    runner_module.Runner.load_checkpoint = runner_load_checkpoint
    runner_module.find_latest_checkpoint = find_latest_checkpoint
    checkpoint_hook.open = atomic_open  # the module's own name for the built-in

    original_call = PretrainedInit.__call__
    original_init = PretrainedInit.__init__

    def __init__(self, checkpoint, prefix=None, map_location='cpu', strict=True):
        original_init(self, checkpoint, prefix=prefix, map_location=map_location)
        self.strict = strict

    def __call__(self, module):
        if not getattr(self, 'strict', True):
            return original_call(self, module)
        from mmengine.logging import print_log
        from mmengine.model.weight_init import update_init_info
        from mmengine.runner.checkpoint import (_load_checkpoint,
                                                _load_checkpoint_with_prefix)
        where = str(self.checkpoint)
        if self.prefix is None:
            state = _revised_state_dict(
                unwrap_state_dict(_load_checkpoint(self.checkpoint, self.map_location)),
                [(r'^module\.', '')])
        else:
            state = _load_checkpoint_with_prefix(
                self.prefix, self.checkpoint, map_location=self.map_location)
            where = f'{where} (prefix {self.prefix!r})'
        load_state_dict_strictly(module, state, where)
        print_log(f'load model from: {where}', logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    __init__.__doc__ = PretrainedInit.__init__.__doc__
    PretrainedInit.__init__ = __init__
    PretrainedInit.__call__ = functools.wraps(original_call)(__call__)
