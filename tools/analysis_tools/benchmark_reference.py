"""Time eofm's AnySat forward against a transcription of the reference's, side by side.

Both run in one process on the same weights and the same inputs, alternating call by
call (so that a change of the machine's load hits both), on the real TreeSatAI-TS tile
that the repository ships (``tests/data/treesatai_ts_sample``: a 60 m tile, aerial
0.2 m, Sentinel-2 and ascending Sentinel-1 series) loaded by eofm's data layer. The
reference is the test fixture ``tests.helpers.anysat_reference.reference_forward``
(the release forward of ``gastruc/AnySat``, transcribed for the parity tests; it runs
eofm's projectors, so what is compared is the spatial transformer, the modality
combiner and the cross block). The weights are random in the release layout with
non-zero iRPE tables (:func:`randomise_release_weights`).

For every precision asked for, the report gives both forwards' median times, their
ratio and the largest difference of their outputs; the matmul peaks of fp32 and bf16
are measured in the same run, and each forward's achieved FLOP/s is given as a share
of them. ``--precision bf16`` runs both under the same bf16 autocast; eofm's
``auto`` default is ``bf16`` on CPUs with bf16 matrix units, and the reference's code
has no CPU autocast, so the row ``eofm auto / reference fp32`` compares what each
runs by default.

Example::

    python tools/analysis_tools/benchmark_reference.py --preset base --threads 2 \\
        --precision fp32 bf16 --iters 6 --out work_dirs/bench/anysat_reference.json
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # the reference transcription is a test fixture
    sys.path.insert(0, REPO_ROOT)

from eofm.utils.benchmark import (alternate, device_name, matmul_peak,  # noqa: E402
                                  write_json)
from eofm.utils.precision import autocast, resolve_precision  # noqa: E402

MODALITIES = ('aerial', 's2', 's1-asc')
#: eofm's data-layer keys -> the reference's input names.
_REFERENCE_KEYS = {'aerial': 'aerial', 's2': 's2', 's2_doy': 's2_dates',
                   's1_asc': 's1-asc', 's1_asc_doy': 's1-asc_dates'}


def tile_inputs(batch_size=1):
    """The shipped TreeSatAI-TS tile as (eofm batch, reference inputs)."""
    from eofm.datasets import MultiModalDataset, multimodal_collate
    from eofm.models import MultiModalDataPreprocessor
    from tests.helpers.treesatai_tile import NORMALIZE, pipeline, write_annotation
    with tempfile.TemporaryDirectory() as tmp:
        ds = MultiModalDataset(ann_file=write_annotation(tmp), pipeline=pipeline())
        sample = ds[0]
    prep = MultiModalDataPreprocessor(normalize=NORMALIZE)
    full = prep(multimodal_collate([sample] * batch_size))['inputs']
    missing = sorted(set(_REFERENCE_KEYS) - set(full))
    if missing:
        raise SystemExit(f'benchmark_reference: the tile gave no {missing}; the '
                         f'reference needs {sorted(_REFERENCE_KEYS)}')
    # the reference takes no observation masks, presence flags or coordinates: both
    # forwards get the tile's values alone (the same computation on both sides)
    batch = {k: full[k] for k in _REFERENCE_KEYS}
    ref = {_REFERENCE_KEYS[k]: v for k, v in batch.items()}
    return batch, ref


def count_flops(fn):
    """Matrix-product FLOPs of one call of ``fn`` (1 multiply-add = 2 FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    from eofm.utils.benchmark import CUSTOM_FLOPS
    counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FLOPS)
    with counter:
        fn()
    return counter.get_total_flops()


def bench(preset, patch_size, precisions, iters, warmup, batch_size, output='patch'):
    """The measurements (a dict) of eofm vs the reference for each precision."""
    from eofm.models import AnySat
    from tests.helpers.anysat_reference import randomise_release_weights, reference_forward
    batch, ref_inputs = tile_inputs(batch_size)
    torch.manual_seed(0)
    model = randomise_release_weights(AnySat(preset, modalities=list(MODALITIES))).eval()

    def ours():
        out = model(batch, patch_size=patch_size, output=output)
        return out.reshape(out.shape[0], -1, out.shape[-1])

    def theirs():
        return reference_forward(model, ref_inputs, patch_size, output)

    rows = []
    with torch.no_grad():
        fp32 = ours().float()
        for precision in precisions:
            with autocast(precision):
                a, b = ours().float(), theirs().float()
                flops = dict(eofm=count_flops(ours), reference=count_flops(theirs))
                times = alternate(dict(eofm=ours, reference=theirs), iters, warmup)
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append(
                dict(
                    precision=precision,
                    eofm_s=med['eofm'],
                    reference_s=med['reference'],
                    eofm_over_reference=med['eofm'] / med['reference'],
                    eofm_times_s=times['eofm'],
                    reference_times_s=times['reference'],
                    flops=flops,
                    max_abs_diff=(a - b).abs().max().item(),
                    eofm_rel_l2_to_fp32=((a - fp32).norm() / fp32.norm()).item()))
    shapes = {k: list(v.shape) for k, v in ref_inputs.items()}
    return dict(
        model=f'AnySat {preset}',
        modalities=list(MODALITIES),
        patch_size=patch_size,
        output=output,
        batch_size=batch_size,
        inputs=shapes,
        rows=rows)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time eofm's AnySat forward against the transcribed reference "
        'forward on the same weights and inputs, alternating, and check their '
        'outputs agree.')
    parser.add_argument('--preset', default='base', help="AnySat arch (default: base)")
    parser.add_argument(
        '--patch-size', type=int, default=10, help='patch size in metres (10)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='copies of the tile per call (1)')
    parser.add_argument(
        '--precision',
        nargs='+',
        default=['fp32', 'auto'],
        choices=['fp32', 'bf16', 'auto'],
        help='autocast of both forwards (default: fp32 auto; auto: bf16 where the '
        'CPU has bf16 matrix units)')
    parser.add_argument('--iters', type=int, default=6, help='timed calls of each (6)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed calls of each (1)')
    parser.add_argument('--threads', type=int, help='torch.set_num_threads')
    parser.add_argument('--out', help='write the numbers to this JSON file')
    args = parser.parse_args(argv)
    for name, low in (('batch_size', 1), ('iters', 1), ('warmup', 0), ('threads', 1),
                      ('patch_size', 1)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            parser.error(f'--{name.replace("_", "-")} must be >= {low}')
    return args


def main(argv=None):
    args = parse_args(argv)
    import eofm  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device('cpu')
    precisions = list(dict.fromkeys(resolve_precision(p) for p in args.precision))
    peaks = dict(fp32=matmul_peak(device),
                 bf16=matmul_peak(device, torch.bfloat16, n=1024, reps=3))
    result = bench(args.preset, args.patch_size, precisions, args.iters, args.warmup,
                   args.batch_size)
    report = dict(
        device_name=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        load_average_1min_before=os.getloadavg()[0],
        matmul_peak_flops_per_s=peaks,
        precision_auto=resolve_precision('auto'),
        iters=args.iters,
        warmup=args.warmup,
        **result)
    fp32 = {r['precision']: r for r in result['rows']}.get('fp32')
    print(f"{result['model']} on the TreeSatAI-TS tile ({', '.join(MODALITIES)}), "
          f"{args.patch_size} m patches, batch {args.batch_size}; "
          f"{report['device_name']}; median of {args.iters} alternating calls")
    print('matmul peaks in this run: ' +
          ', '.join(f'{k} {v / 1e9:,.0f} GFLOP/s' for k, v in peaks.items()))
    print('| precision | eofm ms | reference ms | eofm / reference | eofm share of '
          'its peak | max |eofm - reference| |')
    print('|---|---|---|---|---|---|')
    for r in result['rows']:
        share = r['flops']['eofm'] / r['eofm_s'] / peaks[r['precision']]
        print(f"| {r['precision']} | {r['eofm_s'] * 1e3:,.0f} | "
              f"{r['reference_s'] * 1e3:,.0f} | {r['eofm_over_reference']:.2f}x | "
              f"{share:.1%} | {r['max_abs_diff']:.1e} |")
        if fp32 is not None and r['precision'] != 'fp32':
            ratio = r['eofm_s'] / fp32['reference_s']
            report[f"eofm_{r['precision']}_over_reference_fp32"] = ratio
            print(f"|   eofm {r['precision']} / reference fp32 | | | {ratio:.2f}x | "
                  f"| rel. L2 to eofm fp32 {r['eofm_rel_l2_to_fp32']:.1e} |")
    if args.out:
        write_json(report, args.out)
    return report


if __name__ == '__main__':
    main()
