"""Measuring tools of the benchmark scripts (``tools/analysis_tools/benchmark_*``):
matmul peaks (every speed is reported as a ratio to the peaks measured in the same
run), timed runs, peak tensor memory on CPU and GPU, FLOP rules and reports.

These are written here because no library of the stack provides them together:
torch's profiler gives allocation events, not a peak above a baseline, and its
FLOP counter has no rule for the CPU flash-attention kernels.
"""
import contextlib
import json
import os
import os.path as osp
import platform
import time

import torch

__all__ = [
    'MEMORY_METHODS', 'sync', 'device_name', 'matmul_peak', 'time_runs', 'alternate',
    'peak_memory',
    'CUSTOM_FLOPS', 'write_json', 'peak_rss_bytes'
]

MEMORY_METHODS = {
    'cuda':
    'torch.cuda.max_memory_allocated above the allocation before the run',
    'cpu':
    'torch.profiler allocation/free events (profile_memory): peak of live '
    'tensor bytes above those live before the run',
}


def sync(device):
    """Wait for the device's queued work (a no-op on CPUs)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def device_name(device):
    """The CPU model or the GPU name, with the thread count for CPUs."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    name = line.split(':', 1)[1].strip()
                    break
    return f'{name}, {torch.get_num_threads()} threads'


def matmul_peak(device, dtype=torch.float32, n=2048, reps=5):
    """Best FLOP/s of ``n x n @ n x n`` matmuls of ``dtype`` on ``device``."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    for _ in range(2):
        torch.mm(a, b)
    sync(device)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync(device)
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / min(times)


def time_runs(fn, iters, warmup, device):
    """Seconds of each of ``iters`` calls of ``fn`` after ``warmup`` calls."""
    return alternate(dict(fn=fn), iters, warmup, device)['fn']


def alternate(fns, iters, warmup, device=torch.device('cpu')):
    """Seconds of ``iters`` calls of each function of ``fns`` (a dict), called in
    turn after ``warmup`` rounds, so that a change of the machine's load hits them
    alike. Returns ``{name: [seconds of each call]}``."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    sync(device)
    times = {k: [] for k in fns}
    for _ in range(iters):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync(device)
            times[k].append(time.perf_counter() - t0)
    return times


def peak_memory(fn, device):
    """Peak bytes of tensors allocated by one call of ``fn`` (see the docstring)."""
    sync(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        sync(device)
        return torch.cuda.max_memory_allocated(device) - base
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [(e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
              if e.name() == '[memory]' and e.device_type() == DeviceType.CPU]
    live = peak = 0
    for _, nbytes in sorted(events):
        live += nbytes
        peak = max(peak, live)
    return peak


def _cpu_flash_fwd(query, key, value, *args, out_val=None, **kwargs):
    from torch.utils.flop_counter import sdpa_flop_count
    return sdpa_flop_count(query.shape, key.shape, value.shape)


def _cpu_flash_bwd(grad_out, query, key, value, *args, out_val=None, **kwargs):
    from torch.utils.flop_counter import sdpa_backward_flop_count
    return sdpa_backward_flop_count(grad_out.shape, query.shape, key.shape, value.shape)


_cpu_flash_fwd._get_raw = True
_cpu_flash_bwd._get_raw = True
#: FLOP rules torch.utils.flop_counter lacks: the CPU flash-attention kernels
#: (counted as the SDPA they compute).
CUSTOM_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_flash_fwd,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_flash_bwd,
}


def peak_rss_bytes():
    """Peak resident set size of this process image so far (bytes).

    Linux's ``getrusage(RUSAGE_SELF).ru_maxrss`` keeps the peak of the parent
    across ``fork`` + ``exec``: a benchmark child spawned by a parent that
    generated a large scene would report the parent's peak. ``VmHWM`` of
    ``/proc/self/status`` belongs to the process image and starts afresh at
    ``exec``; ``ru_maxrss`` is the fallback where there is no ``/proc``.
    """
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    import sys
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == 'darwin' else rss * 1024


def write_json(report, path):
    """Write a benchmark report as JSON (the folder is created)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(report, f, indent=2)
    os.replace(tmp, path)  # atomic: an interrupted run leaves no half report
    print(f'wrote {path}')
