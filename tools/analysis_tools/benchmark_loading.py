"""Benchmark eofm's data loading: throughput and bytes read per sample.

1. Throughput (samples/s) of a dataset config's train pipeline (the sample dataset
   by default, generated on the fly when ``--data-root`` has none) through a
   PyTorch DataLoader with 0, 1 and 2 workers.
2. Windowed reads: a large tiled GeoTIFF (``--scene-size`` px square) is read in
   random ``--window`` px footprints with ``LoadMultiModalTiles``; the bytes the
   process really read from disk per sample (``/proc/self/io`` rchar, Linux) are
   compared with the file size.

Example::

    python tools/analysis_tools/benchmark_loading.py --workers 0 1 2
"""
import argparse
import os
import os.path as osp
import tempfile
import time

import numpy as np


def _rchar():
    with open('/proc/self/io') as f:
        for line in f:
            if line.startswith('rchar:'):
                return int(line.split()[1])
    raise RuntimeError('no rchar in /proc/self/io')


def throughput(config, data_root, workers, batch_size, num_batches):
    """{num_workers: samples/s} for the train dataloader of ``config``."""
    import torch
    from mmengine.config import Config

    from eofm.datasets import multimodal_collate
    from eofm.registry import DATASETS
    cfg = Config.fromfile(config)
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=data_root)
    dataset = DATASETS.build(ds_cfg)
    results = {}
    for w in workers:
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=True,
            num_workers=w,
            collate_fn=multimodal_collate,
            persistent_workers=False,
            generator=torch.Generator().manual_seed(0))
        it = iter(loader)
        next(it)  # warm-up: worker start, first file opens
        t0 = time.perf_counter()
        n = 0
        for _ in range(num_batches):
            try:
                batch = next(it)
            except StopIteration:
                it = iter(loader)
                batch = next(it)
            n += len(batch['inputs'])
        results[w] = n / (time.perf_counter() - t0)
        del it, loader
    return results


def write_scene(path, size, bands=1, block=256):
    """A tiled, uncompressed uint16 GeoTIFF of ``size`` x ``size`` px."""
    from osgeo import gdal, osr
    gdal.UseExceptions()
    ds = gdal.GetDriverByName('GTiff').Create(
        path,
        size,
        size,
        bands,
        gdal.GDT_UInt16,
        options=[
            'TILED=YES', f'BLOCKXSIZE={block}', f'BLOCKYSIZE={block}',
            'BIGTIFF=IF_SAFER'
        ])
    ds.SetGeoTransform((500000.0, 10.0, 0, 5000000.0 + 10.0 * size, 0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    row = (np.arange(size, dtype=np.uint32) % 10000).astype(np.uint16)
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        for y in range(0, size, block):
            h = min(block, size - y)
            band.WriteArray(np.ascontiguousarray(np.broadcast_to(row, (h, size))), 0, y)
    ds = None
    return path


def windowed_reads(path, window, samples, seed=0):
    """Mean bytes read per sample and the file size, for random windows."""
    from osgeo import gdal

    from eofm.datasets import LoadMultiModalTiles
    gdal.SetCacheMax(1 << 20)  # no help from GDAL's block cache between samples
    size = gdal.Open(path).RasterXSize
    load = LoadMultiModalTiles(dict(s2=dict()))
    rng = np.random.default_rng(seed)
    # Warm-up: the first sample also opens PROJ's database (lon/lat of the centre).
    load(dict(modalities=dict(s2=dict(path=path)), window=(0, 0, window, window)))
    read = []
    for _ in range(samples):
        x, y = rng.integers(0, size - window, 2)
        before = _rchar()
        out = load(
            dict(
                modalities=dict(s2=dict(path=path)),
                window=(int(x), int(y), window, window)))
        read.append(_rchar() - before)
        assert out['s2'].shape[-2:] == (window, window)
        assert out['s2'][0, 0, 0] == x % 10000  # the right pixels were read
    return float(np.mean(read)), float(np.max(read)), os.path.getsize(path)


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark eofm data loading')
    parser.add_argument('--config', default='configs/_base_/datasets/eofm_sample.py')
    parser.add_argument(
        '--data-root',
        default=None,
        help='dataset root; default: generate the sample dataset')
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-batches', type=int, default=20)
    parser.add_argument('--scene-size', type=int, default=10000)
    parser.add_argument('--window', type=int, default=256)
    parser.add_argument('--samples', type=int, default=50)
    parser.add_argument('--skip-scene', action='store_true')
    return parser.parse_args()


def main():
    args = parse_args()
    import eofm  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data_root
        if root is None:
            from eofm.datasets.sample_data import generate
            root = osp.join(tmp, 'sample')
            generate(root, num_tiles=96)
        res = throughput(args.config, root, args.workers, args.batch_size,
                         args.num_batches)
        print(f'{osp.basename(args.config)} train pipeline, batch {args.batch_size}:')
        for w, sps in res.items():
            print(f'  num_workers={w}: {sps:7.1f} samples/s')
        if args.skip_scene:
            return
        path = write_scene(osp.join(tmp, 'scene.tif'), args.scene_size)
        mean, peak, total = windowed_reads(path, args.window, args.samples)
        print(f'{args.scene_size} x {args.scene_size} px uint16 GeoTIFF '
              f'({total / 2**20:.1f} MiB), {args.window} px windows:')
        print(f'  bytes read per sample: mean {mean / 2**10:.1f} KiB, max '
              f'{peak / 2**10:.1f} KiB ({100 * mean / total:.3f} % of the file)')


if __name__ == '__main__':
    import sys
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    main()
