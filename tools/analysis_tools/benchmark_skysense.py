"""Benchmark SkySense: time, peak memory and achieved FLOP/s against the matmul peak.

For each ``--arch`` a bare ``eofm.SkySense`` (all three modalities, geo-context on)
is built on the device (CUDA when available, else the CPU) and measured on one
synthetic batch (``--input-shape`` per sample; defaults: tiny HR 256 px with
Sentinel-2/-1 series of 8 dates at 32 px, up-head scale 1; small HR 512 px with the
same series, scale 2; the scale follows from the sizes so the grids match):

* **time**: the median over ``--iters`` timed runs, after ``--warmup`` untimed ones,
  of (a) a forward in eval mode without gradients and (b) a forward + backward
  (``sum(outputs).backward()``) in train mode; CUDA is synchronised around each run;
* **peak memory**: on CUDA ``torch.cuda.max_memory_allocated`` during one run above
  what was allocated before it; on the CPU the highest total of tensor bytes that
  PyTorch's allocator handed out during one run above what was live before it,
  from the allocation and free events of ``torch.profiler`` (``profile_memory``),
  replayed in time order. Both count tensors only (not the allocator's cache, the
  interpreter or the libraries); the profiled run is separate from the timed ones;
* **FLOPs**: ``FlopCounterMode`` (see ``count_params.py``) over the same forward,
  and over forward + backward, on a copy of the model on meta tensors (matrix
  products only, 1 multiply-add = 2 FLOPs; activation-checkpointing recomputation
  not included, so these are model FLOPs);
* **achieved FLOP/s** = FLOPs / median time, and its ratio to the **matmul peak**
  measured in the same run: the best of several ``2048 x 2048 @ 2048 x 2048`` fp32
  matmuls (and bf16 ones with ``--amp bf16``).

``--amp bf16`` runs the timed passes under ``torch.autocast(device, bfloat16)``.
On CPUs without bf16 matrix units that is much slower than fp32, and even with them
the non-matrix ops (kept in fp32, with casts) dominate small models; the bf16
matmul peak is printed next to the fp32 one so the two can be compared.

Example::

    python tools/analysis_tools/benchmark_skysense.py --arch tiny small --iters 10 \\
        --out work_dirs/benchmark_skysense.json
"""
import argparse
import contextlib
import os
import os.path as osp
import statistics
import sys

import torch

from eofm.utils.benchmark import (MEMORY_METHODS, device_name, matmul_peak,
                                  peak_memory, time_runs, write_json)

try:
    from tools.analysis_tools.count_params import (ARCH_INPUTS, ARCHS, build_model,
                                                   count_flops, count_parameters,
                                                   make_inputs, parse_input_shapes,
                                                   skysense_cfg)
except ImportError:  # run as a script: the repository root is not on sys.path
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from count_params import (ARCH_INPUTS, ARCHS, build_model, count_flops,
                              count_parameters, make_inputs, parse_input_shapes,
                              skysense_cfg)


def _loss(out):
    return sum(o.float().sum() for o in out)


def bench_arch(arch,
               shapes,
               batch_size,
               iters,
               warmup,
               device,
               with_cp=False,
               amp=None,
               geo_context=True):
    """The measurements of one arch as a dict (see the module docstring)."""
    cfg = skysense_cfg(arch, shapes, geo_context=geo_context, with_cp=with_cp)
    meta_model = build_model(dict(cfg, with_cp=False))
    counts = count_parameters(meta_model)
    meta_inputs = make_inputs(meta_model, shapes, batch_size)
    meta_model.eval()
    fwd_flops = count_flops(meta_model, meta_inputs)['total']
    meta_model.train()
    fwd_bwd_flops = count_flops(meta_model, meta_inputs, backward=True)['total']
    del meta_model

    torch.manual_seed(0)
    model = build_model(cfg, meta=False).to(device)
    inputs = make_inputs(model, shapes, batch_size, device=device)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) \
        if amp == 'bf16' else contextlib.nullcontext

    def forward():
        with torch.no_grad(), autocast():
            model(inputs)

    def forward_backward():
        with autocast():
            loss = _loss(model(inputs))
        loss.backward()
        model.zero_grad(set_to_none=True)

    model.eval()
    fwd_times = time_runs(forward, iters, warmup, device)
    fwd_mem = peak_memory(forward, device)
    model.train()
    fb_times = time_runs(forward_backward, iters, warmup, device)
    fb_mem = peak_memory(forward_backward, device)
    fwd_t, fb_t = statistics.median(fwd_times), statistics.median(fb_times)
    return dict(
        arch=arch,
        batch_size=batch_size,
        inputs={m: list(shapes[m])
                for m in model.modalities},
        up_head_scale=cfg.get('up_head', {}).get('scale'),
        params=counts['total'],
        flops_forward=fwd_flops,
        flops_forward_backward=fwd_bwd_flops,
        time_forward_s=fwd_t,
        time_forward_backward_s=fb_t,
        times_forward_s=fwd_times,
        times_forward_backward_s=fb_times,
        flops_per_s_forward=fwd_flops / fwd_t,
        flops_per_s_forward_backward=fwd_bwd_flops / fb_t,
        peak_memory_forward_bytes=fwd_mem,
        peak_memory_forward_backward_bytes=fb_mem,
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time SkySense forward and forward+backward passes, measure '
        'their peak memory and FLOP/s against the measured matmul peak.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Example: benchmark_skysense.py --arch tiny small --iters 10')
    parser.add_argument(
        '--arch', nargs='+', default=['tiny', 'small'], choices=ARCHS, help='archs')
    parser.add_argument('--batch-size', type=int, default=2, help='batch size (2)')
    parser.add_argument(
        '--iters', type=int, default=10, help='timed runs per measurement (10)')
    parser.add_argument(
        '--warmup', type=int, default=2, help='untimed runs before them (2)')
    parser.add_argument(
        '--with-cp', action='store_true', help='activation checkpointing everywhere')
    parser.add_argument(
        '--amp',
        choices=('none', 'bf16'),
        default='none',
        help='bf16: run under torch.autocast(device, dtype=torch.bfloat16)')
    parser.add_argument(
        '--input-shape',
        nargs='+',
        metavar='NAME=SHAPE',
        help='per-sample shapes for every arch: hr=C,H,W s2=T,C,H,W s1=T,C,H,W '
        '(missing ones from the arch defaults; the up-head scale follows)')
    parser.add_argument(
        '--no-geo-context', action='store_true', help='without the geo-context part')
    parser.add_argument(
        '--device',
        choices=('auto', 'cpu', 'cuda'),
        default='auto',
        help='auto: '
        'cuda if available, else cpu')
    parser.add_argument(
        '--threads',
        type=int,
        help='CPU threads (torch.set_num_threads; default: PyTorch\'s). On a CPU '
        'that other processes also use, fewer threads than cores avoid OpenMP '
        'threads waiting for each other')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    args = parser.parse_args(argv)
    for name, low in (('batch_size', 1), ('iters', 1), ('warmup', 0), ('threads', 1)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    try:
        args.shapes = parse_input_shapes(args.input_shape)
    except ValueError as e:
        parser.error(str(e))
    if 'inputs' in args.shapes:
        parser.error('--input-shape: name each shape (hr=..., s2=..., s1=...)')
    return args


def _mib(n):
    return f'{n / 2**20:,.1f}'


def results_table(results, peaks):
    """Lines of the table: one column per arch."""
    fp32 = peaks['fp32']
    rows = [
        ('inputs (per sample)', lambda r: ' '.join(f'{m}:{"x".join(map(str, s))}'
                                                   for m, s in r['inputs'].items())),
        ('batch size', lambda r: str(r['batch_size'])),
        ('up-head scale', lambda r: str(r['up_head_scale'])),
        ('params (M)', lambda r: f'{r["params"] / 1e6:,.2f}'),
        ('GFLOPs forward', lambda r: f'{r["flops_forward"] / 1e9:,.2f}'),
        ('GFLOPs fwd+bwd', lambda r: f'{r["flops_forward_backward"] / 1e9:,.2f}'),
        ('fwd+bwd / fwd FLOPs',
         lambda r: f'{r["flops_forward_backward"] / r["flops_forward"]:.2f}'),
        ('forward ms (median)', lambda r: f'{1e3 * r["time_forward_s"]:,.1f}'),
        ('fwd+bwd ms (median)', lambda r: f'{1e3 * r["time_forward_backward_s"]:,.1f}'),
        ('forward GFLOP/s', lambda r: f'{r["flops_per_s_forward"] / 1e9:,.1f}'),
        ('fwd+bwd GFLOP/s',
         lambda r: f'{r["flops_per_s_forward_backward"] / 1e9:,.1f}'),
        ('forward % fp32 peak',
         lambda r: f'{100 * r["flops_per_s_forward"] / fp32:.1f}'),
        ('fwd+bwd % fp32 peak',
         lambda r: f'{100 * r["flops_per_s_forward_backward"] / fp32:.1f}'),
    ]
    if 'bf16' in peaks:
        rows += [
            ('forward % bf16 peak',
             lambda r: f'{100 * r["flops_per_s_forward"] / peaks["bf16"]:.1f}'),
            ('fwd+bwd % bf16 peak',
             lambda r: f'{100 * r["flops_per_s_forward_backward"] / peaks["bf16"]:.1f}'
             ),
        ]
    rows += [
        ('peak mem forward MiB', lambda r: _mib(r['peak_memory_forward_bytes'])),
        ('peak mem fwd+bwd MiB',
         lambda r: _mib(r['peak_memory_forward_backward_bytes'])),
    ]
    cells = [[name] + [fmt(r) for r in results] for name, fmt in rows]
    widths = [
        max(len(c[i]) for c in cells + [[''] + [r['arch'] for r in results]])
        for i in range(len(results) + 1)
    ]
    head = ['metric'.ljust(widths[0])
            ] + [r['arch'].rjust(w) for r, w in zip(results, widths[1:])]
    lines = ['  '.join(head), '-' * (sum(widths) + 2 * len(results))]
    for c in cells:
        lines.append('  '.join([c[0].ljust(widths[0])] +
                               [v.rjust(w) for v, w in zip(c[1:], widths[1:])]))
    return lines


def main(argv=None):
    args = parse_args(argv)
    import eofm  # noqa: F401
    device = torch.device('cuda' if args.device == 'cuda' or (
        args.device == 'auto' and torch.cuda.is_available()) else 'cpu')
    amp = None if args.amp == 'none' else args.amp
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    peaks = {'fp32': matmul_peak(device)}
    if amp == 'bf16':
        peaks['bf16'] = matmul_peak(device, torch.bfloat16)
    results = []
    for arch in args.arch:
        shapes = dict(ARCH_INPUTS[arch], **args.shapes)
        results.append(
            bench_arch(arch, shapes, args.batch_size, args.iters, args.warmup, device,
                       args.with_cp, amp, not args.no_geo_context))
    report = dict(
        device=device.type,
        device_name=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
        load_average_1min_before=load,
        amp=amp or 'none',
        with_cp=args.with_cp,
        geo_context=not args.no_geo_context,
        iters=args.iters,
        warmup=args.warmup,
        matmul_peak_flops_per_s=peaks,
        matmul_peak_method='best of 5 timed 2048x2048 @ 2048x2048 torch.mm',
        memory_method=MEMORY_METHODS[device.type],
        flops_method='FlopCounterMode on meta tensors, matrix products only, '
        '1 multiply-add = 2 FLOPs, no checkpoint recomputation',
        results=results)
    print(f'device: {device.type} ({report["device_name"]}), torch {torch.__version__}'
          f', amp {report["amp"]}, with_cp {args.with_cp}, median of {args.iters} '
          f'after {args.warmup} warm-up')
    if load is not None and device.type == 'cpu':
        print(f'CPU load average before the run: {load:.2f} on {os.cpu_count()} '
              'cores (other processes slow the timings down)')
    print('matmul peak (best 2048^3 torch.mm): ' +
          ', '.join(f'{k} {v / 1e9:,.1f} GFLOP/s' for k, v in peaks.items()))
    print('\n'.join(results_table(results, peaks)))
    print(f'peak memory: {report["memory_method"]}')
    print(f'FLOPs: {report["flops_method"]}; forward in eval mode without gradients, '
          'fwd+bwd in train mode')
    if amp == 'bf16' and device.type == 'cpu':
        print(f'bf16 autocast on the CPU: the bf16 matmul peak here is '
              f'{peaks["bf16"] / peaks["fp32"]:.1f}x the fp32 one (1x or less without '
              'bf16 matrix units), but only matmuls and convs run in bf16: the other '
              'ops stay fp32 with casts in between: the speed-up is far below that '
              'ratio and a small model may run slower than in fp32; compare with an '
              'fp32 run')
    if args.out:
        write_json(report, args.out)
    return report


if __name__ == '__main__':
    main()
