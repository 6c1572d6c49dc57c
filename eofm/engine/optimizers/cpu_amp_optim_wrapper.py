"""bf16 mixed-precision training on the CPU.

mmengine's ``AmpOptimWrapper`` cannot be built without an accelerator (its
constructor asserts CUDA / NPU / MLU / MUSA), so ``--amp`` had no effect on a CPU,
even on CPUs whose bf16 matrix units multiply several times faster than in fp32
(:mod:`eofm.utils.precision`). bf16 keeps fp32's exponent range, so no loss
scaling is needed: this wrapper is mmengine's ``OptimWrapper`` whose
``optim_context`` also enters ``torch.autocast('cpu', dtype=torch.bfloat16)``.
Parameters, gradients and optimizer states stay fp32.

Use it from a config (``optim_wrapper=dict(type='eofm.CPUAmpOptimWrapper',
optimizer=...)``) or with ``tools/train.py --amp`` on a CPU with bf16 units.
"""
import contextlib

import torch
from mmengine.optim import OptimWrapper

from eofm.registry import OPTIM_WRAPPERS

__all__ = ['CPUAmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """:class:`mmengine.optim.OptimWrapper` with bf16 autocast on the CPU.

    Args:
        dtype (str | torch.dtype): The autocast dtype; only ``'bfloat16'`` (the
            CPU autocast's low-precision type).
        **kwargs: :class:`mmengine.optim.OptimWrapper`'s arguments.
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError("CPUAmpOptimWrapper: dtype must be 'bfloat16' (CPU "
                             f'autocast), got {dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = dtype

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu',
                                                          dtype=self.cast_dtype):
            yield
