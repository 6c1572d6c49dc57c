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
offending global.
"""
import contextlib
import os
import os.path as osp
import tempfile

import numpy as np
import torch

__all__ = [
    'mmengine_safe_globals', 'load_checkpoint_safely', 'install_safe_local_loader',
    'atomic_write_bytes', 'save_checkpoint_atomically', 'install_atomic_local_writes',
    'split_wrapper', 'unwrap_state_dict', 'pretrained_init_cfg'
]

_BUILTIN_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


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
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        return torch.load(
            filename, map_location=map_location, weights_only=True, mmap=mmap)


def install_safe_local_loader():
    """Make :class:`mmengine.runner.CheckpointLoader` use the safe loader for paths."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_checkpoint_safely)


@contextlib.contextmanager
def _atomic_file(filepath, mode='wb'):
    """A temporary file beside ``filepath`` that replaces it once written and synced.

    A reader sees either the old file or the complete new one, never a truncated file.
    """
    filepath = str(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', dir=dirname)
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
