"""Benchmark scene inference: eofm's SceneInferencer against mmseg's RSInferencer.

Generated square scenes (3-band uint8 GeoTIFFs, written strip by strip so the
generator never holds a scene) of each ``--sizes``; one small segmentation model
(eofm's SimpleConvNet + mmseg's FCN head, random weights in one checkpoint that
both tools load); each (tool, size) in its own process, so that its peak RSS is its
own; the same thread count. eofm runs with cosine blending (``--overlap``) and
without (``blend='none'``, no overlap); mmseg's ``RSInferencer`` with its defaults
(windows without overlap, no blending, a uint8 argmax map). Reported: windows,
windows/s, megapixels/s, peak RSS, eofm's block files in its work folder (their
size at the end, before they are dropped) and wall time per run; eofm's pixels/s over
mmseg's at each size; peak RSS at the largest size over that at the smallest. The
machine's fp32 / bf16 matmul peaks measured in the same run are printed next to
it (the precision ``auto`` picks follows them).

Example::

    python tools/analysis_tools/benchmark_scene_inference.py \\
        --sizes 2048 8192 16384 --work-dir work_dirs/bench_scene \\
        --out work_dirs/bench_scene/results.json
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

MEAN, STD = [110.0, 120.0, 100.0], [40.0, 40.0, 40.0]
MODEL = '''
backbone=dict(type='eofm.SimpleConvNet', in_channels=3, channels=(16, 16),
              strides=(2, 2)),
decode_head=dict(type='FCNHead', in_channels=16, channels=16, num_convs=1,
                 concat_input=False, num_classes=4, norm_cfg=dict(type='BN'),
                 align_corners=False),
test_cfg=dict(mode='whole'))
'''
EOFM_CONFIG = f'''
default_scope = 'mmseg'
custom_imports = dict(imports=['eofm'], allow_failed_imports=False)
pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=dict(rgb=dict(scale='uint8')),
         reference='rgb'),
    dict(type='eofm.PackMultiModalInputs', modalities=['rgb']),
]
test_dataloader = dict(batch_size=1, dataset=dict(
    type='eofm.MultiModalDataset', ann_file='', pipeline=pipeline,
    metainfo=dict(classes=('water', 'field', 'forest', 'town'))))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', task='seg',
                           tensor_input='rgb',
                           normalize=dict(rgb=dict(mean={MEAN}, std={STD}))),
{MODEL}'''
MMSEG_CONFIG = f'''
default_scope = 'mmseg'
custom_imports = dict(imports=['eofm'], allow_failed_imports=False)
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean={MEAN}, std={STD},
                           bgr_to_rgb=False),
{MODEL}'''


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2048, 8192, 16384])
    parser.add_argument('--tile', type=int, default=512)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--work-dir', default='work_dirs/benchmark_scene_inference')
    parser.add_argument('--out', default=None, help='results JSON (atomic write)')
    parser.add_argument('--skip-mmseg', action='store_true')
    parser.add_argument('--keep-outputs', action='store_true',
                        help='keep each run\'s output folder and the generated scenes '
                        '(default: removed once measured)')
    parser.add_argument('--child', nargs=3, metavar=('TOOL', 'SIZE', 'BLEND'),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------------- set-up
def make_scene(path, size, seed=0, strip=512):
    """A 3-band uint8 tiled GeoTIFF of ``size`` x ``size`` px: blocky fields with
    noise, written strip by strip (deterministic; kept when already there)."""
    if osp.isfile(path):
        return path
    from osgeo import gdal, osr
    gdal.UseExceptions()
    tmp = f'{path}.tmp{os.getpid()}.tif'
    ds = gdal.GetDriverByName('GTiff').Create(
        tmp, size, size, 3, gdal.GDT_Byte, options=['TILED=YES', 'BLOCKXSIZE=256',
                                                      'BLOCKYSIZE=256'])
    ds.SetGeoTransform((500000.0, 1.0, 0.0, 5000000.0 + size, 0.0, -1.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    palette = np.random.default_rng(seed).integers(20, 230, (257, 3))
    for y0 in range(0, size, strip):
        h = min(strip, size - y0)
        rng = np.random.default_rng([seed, y0])
        yy, xx = np.mgrid[y0:y0 + h, 0:size]
        field = ((yy // 97) * 31 + (xx // 89) * 17) % 257
        img = palette[field].transpose(2, 0, 1) + rng.integers(-15, 16, (3, h, size))
        img = np.clip(img, 1, 255).astype(np.uint8)
        for b in range(3):
            ds.GetRasterBand(b + 1).WriteArray(img[b], 0, y0)
    ds = None
    os.replace(tmp, path)
    return path


def make_model(work):
    """Both configs and one checkpoint of random weights."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmseg.models  # noqa: F401
    from eofm.registry import MODELS
    paths = {}
    for name, text in (('eofm', EOFM_CONFIG), ('mmseg', MMSEG_CONFIG)):
        paths[name] = osp.join(work, f'model_{name}.py')
        with open(paths[name], 'w') as f:
            f.write(text)
    ckpt = osp.join(work, 'model.pth')
    if not osp.isfile(ckpt):
        torch.manual_seed(0)
        with DefaultScope.overwrite_default_scope('mmseg'):
            model = MODELS.build(Config.fromfile(paths['eofm']).model)
        torch.save(dict(state_dict=model.state_dict()), ckpt)
    return paths, ckpt


# ---------------------------------------------------------------------- one run
def run_child(args):
    """One (tool, size, blend) run in this process; prints its JSON line."""
    import torch

    from eofm.utils.benchmark import peak_rss_bytes
    torch.set_num_threads(args.threads)
    tool, size, blend = args.child[0], int(args.child[1]), args.child[2]
    configs, ckpt = make_model(args.work_dir)
    scene = osp.join(args.work_dir, f'scene_{size}.tif')
    out = osp.join(args.work_dir, f'out_{tool}_{blend}_{size}')
    t0 = time.perf_counter()
    if tool == 'eofm':
        from eofm.apis import SceneInferencer
        overlap = 0 if blend == 'none' else args.overlap
        inf = SceneInferencer(configs['eofm'], ckpt, outputs=('class', ),
                              tile=args.tile, overlap=overlap, blend=blend,
                              batch_size=args.batch_size, num_threads=args.threads,
                              progress=False)
        inf(dict(reference='rgb', modalities=dict(rgb=dict(path=scene))), out,
            overwrite=True)
        summary = json.load(open(osp.join(out, '.work', 'summary.json')))
        windows = summary['windows']
        work_mib = summary.get('block_files_mib')
        precision = summary.get('precision') or inf.settings['precision']
    else:
        import eofm  # noqa: F401 - registers SimpleConvNet
        from mmseg.apis import RSImage, RSInferencer
        from mmseg.utils import register_all_modules
        register_all_modules(False)  # from_config_path does not import mmseg's modules
        os.makedirs(out, exist_ok=True)
        inferencer = RSInferencer.from_config_path(configs['mmseg'], ckpt,
                                                   batch_size=args.batch_size)
        image = RSImage(scene)
        inferencer.run(image, (args.tile, args.tile), output_path=osp.join(
            out, 'class.tif'))
        windows = len(image.grids)
        precision = 'fp32'
        work_mib = None
    seconds = time.perf_counter() - t0
    if not args.keep_outputs:  # a 16384^2 run's outputs and work files take GBs
        import shutil
        shutil.rmtree(out, ignore_errors=True)
    print(json.dumps(dict(
        tool=tool, blend=blend, size=size, windows=windows, seconds=seconds,
        precision=precision, windows_per_s=windows / seconds,
        mpix_per_s=size * size / seconds / 1e6,
        peak_rss_mib=peak_rss_bytes() / 2**20, block_files_mib=work_mib)))


def spawn(args, tool, size, blend):
    cmd = [sys.executable, osp.abspath(__file__), '--child', tool, str(size), blend,
           '--work-dir', args.work_dir, '--tile', str(args.tile), '--overlap',
           str(args.overlap), '--batch-size', str(args.batch_size), '--threads',
           str(args.threads)] + (['--keep-outputs'] if args.keep_outputs else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'benchmark run {tool} {blend} {size} failed:\n'
                         f'{r.stderr[-3000:]}')
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    if args.child:
        return run_child(args)
    import torch

    from eofm.utils.benchmark import matmul_peak, write_json
    from eofm.utils.precision import cpu_bf16_flags, resolve_precision
    torch.set_num_threads(args.threads)
    cpu = torch.device('cpu')
    peaks = dict(fp32=matmul_peak(cpu, torch.float32, n=1024) / 1e9,
                 bf16=matmul_peak(cpu, torch.bfloat16, n=512, reps=2) / 1e9)
    make_model(args.work_dir)
    runs = []
    for size in args.sizes:
        print(f'scene {size} x {size} ...', flush=True)
        make_scene(osp.join(args.work_dir, f'scene_{size}.tif'), size)
        tools = [('eofm', 'cosine'), ('eofm', 'none')]
        if not args.skip_mmseg:
            tools.append(('mmseg', 'none'))
        for tool, blend in tools:
            runs.append(spawn(args, tool, size, blend))
            r = runs[-1]
            print(f'  {tool:5s} blend={blend:6s} {r["windows"]:6d} windows '
                  f'{r["windows_per_s"]:7.2f} windows/s {r["mpix_per_s"]:7.2f} Mpx/s '
                  f'peak RSS {r["peak_rss_mib"]:7.1f} MiB', flush=True)
        if not args.keep_outputs:
            os.remove(osp.join(args.work_dir, f'scene_{size}.tif'))

    def find(tool, blend, size):
        return next(r for r in runs if (r['tool'], r['blend'], r['size']) ==
                    (tool, blend, size))

    ratios = {}
    for size in args.sizes:
        if not args.skip_mmseg:
            ref = find('mmseg', 'none', size)['mpix_per_s']
            ratios[f'eofm_cosine_over_mmseg_pixels_per_s_{size}'] = find(
                'eofm', 'cosine', size)['mpix_per_s'] / ref
            ratios[f'eofm_none_over_mmseg_pixels_per_s_{size}'] = find(
                'eofm', 'none', size)['mpix_per_s'] / ref
    lo, hi = min(args.sizes), max(args.sizes)
    for tool, blend in {(r['tool'], r['blend']) for r in runs}:
        ratios[f'peak_rss_{tool}_{blend}_{hi}_over_{lo}'] = (
            find(tool, blend, hi)['peak_rss_mib'] / find(tool, blend, lo)['peak_rss_mib'])
    machine = dict(threads=args.threads, torch=torch.__version__,
                   cpu_bf16_flags=cpu_bf16_flags(),
                   precision_auto=resolve_precision('auto', 'cpu'),
                   matmul_peak_gflops=peaks)
    lines = [f'threads {args.threads}, torch {torch.__version__}, fp32 matmul peak '
             f'{peaks["fp32"]:.0f} GFLOP/s, bf16 {peaks["bf16"]:.0f} GFLOP/s '
             f'(precision auto: {machine["precision_auto"]}); tile {args.tile}, '
             f'overlap {args.overlap} (cosine), batch {args.batch_size}', '',
             '| tool | blending | scene | windows | windows/s | Mpx/s | peak RSS MiB '
             '| work files MiB | s |', '|---|---|---|---|---|---|---|---|---|']
    for r in runs:
        work = r.get('block_files_mib')
        lines.append(f'| {r["tool"]} | {r["blend"]} | {r["size"]}^2 | {r["windows"]} | '
                     f'{r["windows_per_s"]:.2f} | {r["mpix_per_s"]:.2f} | '
                     f'{r["peak_rss_mib"]:.0f} | {"-" if work is None else f"{work:.0f}"} '
                     f'| {r["seconds"]:.1f} |')
    lines += [''] + [f'- {k}: {v:.3f}' for k, v in sorted(ratios.items())]
    table = '\n'.join(lines)
    print(table)
    report = dict(machine=machine, settings=dict(
        tile=args.tile, overlap=args.overlap, batch_size=args.batch_size,
        sizes=args.sizes), runs=runs, ratios=ratios, table=table)
    if args.out:
        write_json(report, args.out)
    return report


if __name__ == '__main__':
    main()
