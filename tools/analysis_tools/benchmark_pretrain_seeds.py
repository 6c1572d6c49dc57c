"""Pretrain a config with several seeds and tabulate pretrained-vs-random probes.

Runs ``tools/dist_train.sh CONFIG NPROC`` once per pretraining seed
(``randomness.seed``), each into ``WORK_DIR/seed{N}``; a seed whose
``linear_probe.json`` (the :class:`eofm.PretrainReportHook` report) already exists
is not run again, so an interrupted benchmark resumes. Then prints, per level and
probe at every label fraction, the pretrained teacher's and the random
initialisation's accuracy for each pretraining seed (each the mean over the
report's probe seeds), the margin, whether the teacher's interval lies above the
random one's, and whether the ordering held for every seed; the same goes to
``WORK_DIR/seeds_summary.json``::

    python tools/analysis_tools/benchmark_pretrain_seeds.py \\
        configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py \\
        --work-dir work_dirs/demo_seeds --cfg-options data_root=data/sample/

``--summary-only`` tabulates the work dirs that exist without training.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join('configs', 'skysense',
                          'skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py')
MODELS = ('pretrained teacher', 'random init')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG,
                   help='pretraining config with a PretrainReportHook')
    p.add_argument('--work-dir', required=True, help='one sub-folder per seed')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--nproc', type=int, default=2, help='processes per run')
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='passed to tools/train.py (e.g. data_root=data/sample/)')
    p.add_argument('--summary-only', action='store_true',
                   help='only tabulate the seeds already run')
    return p.parse_args(argv)


def run_seed(config, work_dir, seed, nproc, cfg_options):
    """Train one seed unless its report exists; returns the report's path."""
    report = osp.join(work_dir, 'linear_probe.json')
    if osp.isfile(report):
        return report
    cmd = ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, str(nproc),
           '--work-dir', work_dir, '--cfg-options', f'randomness.seed={seed}',
           *cfg_options]
    print(f'seed {seed}: {" ".join(cmd)}', flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)
    if not osp.isfile(report):
        raise FileNotFoundError(f'seed {seed}: the run wrote no {report} (does the '
                                'config have a PretrainReportHook?)')
    return report


def summarize_seeds(reports):
    """{seed: report dict} -> rows of the table (see the module docstring)."""
    per = {}  # (level, probe, fraction) -> {seed: {model: (acc, lo, hi)}}
    for seed, rep in sorted(reports.items()):
        groups = {}
        for r in rep['rows']:
            key = (r['level'], r['probe'], float(r['fraction']), r['model'])
            groups.setdefault(key, []).append(
                (float(r['accuracy']), float(r['ci_low']), float(r['ci_high'])))
        for (level, probe, fraction, model), vals in groups.items():
            per.setdefault((level, probe, fraction), {}).setdefault(seed, {})[model] = \
                tuple(np.mean(vals, 0))
    rows = []
    for (level, probe, fraction), seeds in sorted(per.items()):
        if not all(set(MODELS) <= set(m) for m in seeds.values()):
            continue
        pre = {s: m[MODELS[0]] for s, m in seeds.items()}
        rnd = {s: m[MODELS[1]] for s, m in seeds.items()}
        margins = [pre[s][0] - rnd[s][0] for s in seeds]
        rows.append(dict(
            level=level, probe=probe, fraction=fraction, seeds=sorted(seeds),
            pretrained=[pre[s][0] for s in sorted(seeds)],
            random=[rnd[s][0] for s in sorted(seeds)],
            margin_mean=float(np.mean(margins)), margin_min=float(np.min(margins)),
            ordering_holds=bool(min(margins) > 0),
            outside_intervals=[bool(pre[s][1] > rnd[s][2]) for s in sorted(seeds)]))
    return rows


def format_table(rows):
    lines = [
        '| level | probe | labels | pretrained (per seed) | random (per seed) | '
        'margin mean / min | above random in every seed | intervals apart |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        lines.append(
            f'| {r["level"]} | {r["probe"]} | {r["fraction"] * 100:g} % | '
            + ', '.join(f'{v:.3f}' for v in r['pretrained']) + ' | '
            + ', '.join(f'{v:.3f}' for v in r['random']) + ' | '
            f'{r["margin_mean"]:+.3f} / {r["margin_min"]:+.3f} | '
            f'{"yes" if r["ordering_holds"] else "no"} | '
            f'{sum(r["outside_intervals"])} of {len(r["seeds"])} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    reports = {}
    for seed in args.seeds:
        work_dir = osp.abspath(osp.join(args.work_dir, f'seed{seed}'))
        path = osp.join(work_dir, 'linear_probe.json')
        if not args.summary_only:
            path = run_seed(args.config, work_dir, seed, args.nproc, args.cfg_options)
        if osp.isfile(path):
            with open(path) as f:
                reports[seed] = json.load(f)
    if not reports:
        sys.exit(f'benchmark_pretrain_seeds: no report under {args.work_dir}/seed*/')
    rows = summarize_seeds(reports)
    print(format_table(rows))
    os.makedirs(args.work_dir, exist_ok=True)
    from eofm.utils.checkpoint import atomic_write_bytes
    atomic_write_bytes(
        json.dumps(dict(config=args.config, seeds=sorted(reports), rows=rows),
                   indent=1).encode(), osp.join(args.work_dir, 'seeds_summary.json'))
    return rows


if __name__ == '__main__':
    sys.path.insert(0, ROOT)
    main()
