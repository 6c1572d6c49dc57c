"""Numerical precision that follows the hardware.

bf16 matrix products are several times faster than fp32 on CPUs with bf16 matrix
units (Intel AMX, AVX512-BF16) and many times *slower* on CPUs without them, where
they are emulated (measured on a 2-core AVX2 machine: about 1 GFLOP/s in bf16
against about 120 GFLOP/s in fp32). So ``precision='auto'`` picks bf16 on the CPU
only where the units exist, and keeps the stock fp32 path on GPUs (ask for
``'bf16'`` or ``'fp16'`` there). :func:`resolve_precision` turns a setting into the
precision that runs; :func:`autocast` gives the matching context for inference.

The CPU's units are read from the kernel's CPU flags (``/proc/cpuinfo``); where the
flags cannot be read, a short bf16 / fp32 matmul comparison decides.
"""
import contextlib
import functools
import time

import torch

__all__ = ['PRECISIONS', 'cpu_bf16_flags', 'cpu_has_bf16_matrix_units',
           'resolve_precision', 'autocast']

#: Accepted settings.
PRECISIONS = ('auto', 'fp32', 'bf16', 'fp16')
#: CPU flags of bf16 matrix units (x86: AMX tiles, AVX512-BF16; Arm: BF16 / SME).
BF16_FLAGS = ('amx_bf16', 'avx512_bf16', 'bf16')


def cpu_bf16_flags(cpuinfo='/proc/cpuinfo'):
    """The bf16 matrix-unit flags the CPU reports (a sorted list), or None when
    ``cpuinfo`` cannot be read (not Linux)."""
    try:
        with open(cpuinfo) as f:
            text = f.read()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(':')
        if key.strip() in ('flags', 'Features'):
            flags.update(value.split())
    return sorted(flags.intersection(BF16_FLAGS))


def _bf16_matmul_is_faster(n=512, reps=3):
    """Whether a bf16 matmul of ``n x n`` beats fp32 here (best of ``reps``)."""
    times = {}
    for dtype in (torch.float32, torch.bfloat16):
        a = torch.randn(n, n).to(dtype)
        best = float('inf')
        for _ in range(reps + 1):
            t = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - t)
        times[dtype] = best
    return times[torch.bfloat16] < times[torch.float32]


@functools.lru_cache(maxsize=None)
def cpu_has_bf16_matrix_units():
    """True where the CPU multiplies bf16 matrices in hardware."""
    flags = cpu_bf16_flags()
    if flags is None:
        return _bf16_matmul_is_faster()
    return bool(flags)


def resolve_precision(precision='auto', device='cpu'):
    """The precision that runs for the setting ``precision`` on ``device``.

    Args:
        precision (str): ``'auto'`` (bf16 on a CPU with bf16 matrix units, else
            fp32; fp32 on GPUs, the stock path), ``'fp32'``, ``'bf16'`` or
            ``'fp16'`` (GPUs only).
        device (str | torch.device): Where the model runs.

    Returns:
        str: ``'fp32'``, ``'bf16'`` or ``'fp16'``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got {precision!r}')
    kind = torch.device(device).type
    if precision == 'fp16' and kind == 'cpu':
        raise ValueError("precision='fp16' is for GPUs; on the CPU use 'bf16' (or "
                         "'auto')")
    if precision != 'auto':
        return precision
    if kind == 'cpu':
        return 'bf16' if cpu_has_bf16_matrix_units() else 'fp32'
    return 'fp32'


def autocast(precision, device='cpu'):
    """A context running matrix products in ``precision`` (a resolved one:
    ``'fp32'`` gives a context that changes nothing)."""
    if precision == 'fp32':
        return contextlib.nullcontext()
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16)[precision]
    return torch.autocast(torch.device(device).type, dtype=dtype)
