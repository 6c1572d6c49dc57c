"""The one place where eofm absorbs known faults of its pinned stack.

``apply()`` runs once when ``eofm`` is imported (before any host library is imported
through eofm), is idempotent, and touches only what is listed here:

1. Python >= 3.10 removed the ABC aliases in :mod:`collections`; mmrotate 1.0.0rc1
   still does ``from collections import Sequence``. The aliases are restored.
2. torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 saves
   numpy values and its message hub in checkpoints and cannot load them back, so
   ``--resume`` and ``load_from`` break. eofm registers a local checkpoint loader that
   keeps ``weights_only=True`` and allows only the few extra globals mmengine writes
   (see :mod:`eofm.utils.checkpoint`).
3. mmengine writes checkpoints in place, so an interruption can leave a truncated
   ``.pth``; local writes through mmengine's file backend become atomic.
4. The SkySense paper's mmpretrain example (Fig. K16) loads the Swin **V2** HR
   weights into mmpretrain's V1 ``SwinTransformer``, which silently keeps most of
   its random weights. V1's ``init_weights`` now stops at once with a message naming
   the eofm module and config to use when its pretrained file holds V2 keys
   (:func:`guard_swin_v1`).
5. mmengine loads ``load_from`` / ``--resume`` checkpoints and
   ``init_cfg=dict(type='Pretrained')`` weights with ``strict=False`` and only logs
   what did not match, so the wrong file trains on from random weights. Loading is
   strict: mismatches a model does not declare as expected (``checkpoint_exceptions``)
   are errors naming the keys; ``load_strict=False`` in the config or ``strict=False``
   in the init_cfg restores mmengine's warning. A truncated or empty file, and a
   ``last_checkpoint`` pointer that is empty or names a missing file, are errors
   naming the path; ``CheckpointHook`` writes that pointer with a plain ``open()``,
   which becomes atomic (:func:`eofm.utils.checkpoint.install_strict_loading`).
6. PyTorch's CPU flash attention computes its backward in bf16 2-3.5x slower than
   in fp32 (measured with torch 2.13 on 2 cores: fwd + bwd of (144, 2, 16, 32)
   windows 9.7 ms in bf16 against 3.1 ms in fp32; the forward alone is as fast in
   bf16), so bf16 autocast made a CPU training step slower. Where autograd records
   an attention on the CPU under bf16 (autocast or bf16 inputs),
   ``F.scaled_dot_product_attention`` runs in fp32 and returns bf16
   (:func:`install_cpu_bf16_attention`); every other call (GPUs, fp32, inference)
   goes to PyTorch's function unchanged.

mmseg 1.2.2 imports ``ftfy`` and ``regex`` without declaring them: that fault is fixed
in ``requirements/runtime.txt``, not here.
"""
import collections
import collections.abc

_APPLIED = False

_COLLECTIONS_ABC_ALIASES = ('Sequence', 'Mapping', 'MutableMapping', 'Iterable',
                            'Callable', 'MutableSequence', 'Set', 'MutableSet')


def _restore_collections_aliases():
    for name in _COLLECTIONS_ABC_ALIASES:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def apply():
    """Apply every compatibility fix once (safe to call many times)."""
    global _APPLIED
    if _APPLIED:
        return
    _restore_collections_aliases()
    from .checkpoint import (install_atomic_local_writes, install_safe_local_loader,
                             install_strict_loading)
    install_safe_local_loader()
    install_atomic_local_writes()
    install_strict_loading()
    guard_swin_v1()
    install_cpu_bf16_attention()
    _APPLIED = True


# ------------------------------------------- fix 6: attention backward in bf16 on CPU
_STOCK_SDPA = None


def _records_cpu_bf16_attention(query, key, value):
    import torch
    if query.device.type != 'cpu' or not torch.is_grad_enabled():
        return False
    if not (query.requires_grad or key.requires_grad or value.requires_grad):
        return False
    return query.dtype == torch.bfloat16 or (
        torch.is_autocast_enabled('cpu')
        and torch.get_autocast_dtype('cpu') == torch.bfloat16)


def _scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                  is_causal=False, scale=None, **kwargs):
    """``F.scaled_dot_product_attention``, in fp32 where its bf16 CPU backward is
    slow (fix 6); the same arguments and result dtype."""
    if not _records_cpu_bf16_attention(query, key, value):
        return _STOCK_SDPA(query, key, value, attn_mask, dropout_p, is_causal,
                           scale=scale, **kwargs)
    import torch
    if attn_mask is not None and attn_mask.is_floating_point():
        attn_mask = attn_mask.float()
    with torch.autocast('cpu', enabled=False):
        out = _STOCK_SDPA(query.float(), key.float(), value.float(), attn_mask,
                          dropout_p, is_causal, scale=scale, **kwargs)
    return out.to(torch.bfloat16)


def install_cpu_bf16_attention():
    """Route ``torch.nn.functional.scaled_dot_product_attention`` through
    :func:`_scaled_dot_product_attention` (fix 6; ``nn.MultiheadAttention`` calls
    it too). Idempotent."""
    global _STOCK_SDPA
    import torch.nn.functional as F
    if _STOCK_SDPA is None:
        _STOCK_SDPA = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = _scaled_dot_product_attention


# ---------------------------------------------------------------- fix 4: Swin V1 guard
#: A working config for the SkySense HR weights, named in the error.
HR_CONFIG = 'configs/skysense/skysense-hr_swinv2-h_8xb32-100e_aid-224px.py'
_V2_MARKERS = ('cpb_mlp', 'logit_scale', 'q_bias')


def _v2_keys(checkpoint):
    """Swin V2 keys of a local checkpoint (read memory-mapped), else []."""
    import os.path as osp
    if not isinstance(checkpoint, str) or not osp.isfile(checkpoint):
        return []
    from .checkpoint import load_checkpoint_safely, unwrap_state_dict
    try:
        ckpt = load_checkpoint_safely(checkpoint, map_location='cpu', mmap=True)
    except Exception:  # noqa: BLE001 - not a zip checkpoint: let mmengine try
        return []
    return [k for k in unwrap_state_dict(ckpt) if any(m in k for m in _V2_MARKERS)]


def guard_swin_v1():
    """Make mmpretrain's V1 ``SwinTransformer`` refuse Swin V2 weights (fix 4)."""
    from mmpretrain.models.backbones import SwinTransformer

    from .checkpoint import pretrained_init_cfg
    if getattr(SwinTransformer.init_weights, '_eofm_guard', False):
        return
    original = SwinTransformer.init_weights

    def init_weights(self):
        pretrained = pretrained_init_cfg(self.init_cfg)
        found = _v2_keys(pretrained[0]) if pretrained else []
        if found:
            raise ValueError(
                f'{pretrained[0]} holds Swin Transformer V2 weights ({found[0]}, ...), '
                "which type='SwinTransformer' (V1) cannot load. SkySense's HR encoder "
                "is Swin V2: use backbone=dict(type='eofm.SkySenseSwinV2', "
                "arch='huge', ...) with custom_imports=dict(imports=['eofm']); a "
                f'working classification config is {HR_CONFIG}.')
        return original(self)

    init_weights._eofm_guard = True
    SwinTransformer.init_weights = init_weights
