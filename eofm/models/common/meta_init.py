"""Build and run large models without memory for their weights (counts, FLOPs)."""
import contextlib

import torch
from torch.utils._device import DeviceContext

__all__ = ['empty_weights', 'meta_checks']

# Constructors whose values module constructors read (``.item()``, ``.tolist()``:
# mmpretrain's drop-path schedules, index tables); they stay on the CPU.
_VALUE_CONSTRUCTORS = {
    torch.arange, torch.linspace, torch.logspace, torch.range, torch.tensor,
    torch.as_tensor, torch.asarray, torch.scalar_tensor, torch.tril_indices,
    torch.triu_indices
}


class _EmptyWeights(DeviceContext):

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in _VALUE_CONSTRUCTORS:
            return func(*args, **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs)


@contextlib.contextmanager
def empty_weights():
    """Like ``with torch.device('meta')``, but constructors whose values are read
    stay on the CPU.

    A plain meta device fails in the host libraries' constructors (they call
    ``.item()`` on ``linspace`` results). Parameters are created on the meta device
    directly, so the 2B-parameter SkySense builds in seconds with no weight
    memory; call ``model.to('meta')`` afterwards to move the few small CPU buffers.
    """
    with _EmptyWeights('meta'):
        yield


class _MetaChecks(torch.overrides.TorchFunctionMode):
    """Full ``all()`` / ``any()`` reductions of meta tensors answer True / False.

    Meta tensors have no values, so a model's input validation (``if not
    mask.all()``, ``if (doy > 366).any(): raise``) cannot run on them; inside this
    mode they see valid input with every date present.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.all, torch.all, torch.Tensor.any, torch.any) and \
                len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor) \
                and args[0].is_meta:
            return torch.tensor(func in (torch.Tensor.all, torch.all))
        return func(*args, **kwargs)


@contextlib.contextmanager
def meta_checks():
    """Context for running a model's forward on meta tensors (FLOP counting)."""
    with _MetaChecks():
        yield
