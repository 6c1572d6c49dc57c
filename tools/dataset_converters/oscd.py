# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Cut the OSCD city image pairs into fixed-size patches for training.

    python tools/dataset_converters/oscd.py SRC --out-dir data/oscd_patches \\
        [--size 96] [--stride 96] [--splits train test] [--rect]

SRC holds the official folders ("Onera Satellite Change Detection dataset -
Images", "- Train Labels", "- Test Labels"). For every city of ``train.txt`` /
``test.txt`` the 13 band files of ``imgs_1`` and ``imgs_2`` (``--rect``:
``imgs_1_rect``/``imgs_2_rect``) are stacked on the 10 m grid and cut, with the change
map ``cm/cm.png``, into ``size`` x ``size`` px windows every ``stride`` px; a last
window flush with the right/bottom edge covers the remainder. The output is what
``eofm.OSCD`` reads with ``mode='patches'``::

    OUT/train.txt, OUT/test.txt                 the converted cities
    OUT/<city>/dates.txt                        copied
    OUT/<city>/pre/<city>_<row>_<col>.tif       13 bands B01..B12, B8A (named),
    OUT/<city>/post/<city>_<row>_<col>.tif      geo-referenced, the source data type
    OUT/<city>/cm/<city>_<row>_<col>.png        the change map's values (0/255)

``<row>``/``<col>`` are the window's pixel offsets in the city image.
"""
import argparse
import os
import os.path as osp
import shutil
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from eofm.datasets.multimodal_dataset import S2_BANDS  # noqa: E402
from eofm.datasets.change_detection import (
    OSCD_DIRS,
    oscd_band_files,  # noqa: E402
    patch_layout,
    read_city_list)
from eofm.datasets.geo_io import RasterReadError, _gdal, open_raster  # noqa: E402
from eofm.datasets.raster_sources import GDALSource  # noqa: E402


def patch_offsets(length, size, stride):
    """Window starts along one axis: every ``stride`` px plus one flush with the end."""
    if length < size:
        raise ValueError(f'an image side of {length} px is smaller than the patch size '
                         f'{size}')
    offsets = list(range(0, length - size + 1, stride))
    if offsets[-1] != length - size:
        offsets.append(length - size)
    return offsets


def check_layout(src):
    """Raise a clear error unless ``src`` holds the official OSCD folders."""
    images = osp.join(src, OSCD_DIRS['images'])
    if not osp.isdir(images):
        raise FileNotFoundError(
            f'"{src}" is not an OSCD folder: "{OSCD_DIRS["images"]}"'
            ' is missing (unzip the three official archives there)')


def read_city(src, city, split, image_folders=('imgs_1', 'imgs_2')):
    """Pre/post (13, H, W) arrays, the (H, W) change map and the 10 m grid of a city.

    Returns:
        dict: ``pre``, ``post``, ``change``, ``geotransform`` (or None), ``crs``.
    """
    city_dir = osp.join(src, OSCD_DIRS['images'], city)
    stacks = []
    for folder in image_folders:
        source = GDALSource(band_paths=oscd_band_files(osp.join(city_dir, folder)))
        stacks.append((source, source.ds.ReadAsArray()))
    label_path = osp.join(src, OSCD_DIRS[split], city, 'cm', 'cm.png')
    label_ds = open_raster(label_path)  # keep the dataset alive while reading a band
    change = label_ds.GetRasterBand(1).ReadAsArray()
    (ref, pre), (_, post) = stacks
    if not pre.shape[1:] == post.shape[1:] == change.shape:
        raise ValueError(f'OSCD city {city}: image and change-map sizes differ '
                         f'(pre {pre.shape[1:]}, post {post.shape[1:]}, change map '
                         f'{change.shape})')
    return dict(
        pre=pre,
        post=post,
        change=change,
        geotransform=ref.info.geotransform,
        crs=ref.info.crs_wkt)


def write_geotiff(path, array, geotransform=None, crs='', band_names=()):
    """Write a (C, H, W) array as a GeoTIFF (band descriptions ``band_names``)."""
    gdal = _gdal()
    from osgeo import gdal_array
    c, h, w = array.shape
    ds = gdal.GetDriverByName('GTiff').Create(
        path, w, h, c, gdal_array.NumericTypeCodeToGDALTypeCode(array.dtype))
    if geotransform is not None:
        ds.SetGeoTransform(geotransform)
        ds.SetProjection(crs)
    for i in range(c):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(array[i])
        if i < len(band_names):
            band.SetDescription(band_names[i])
    ds.FlushCache()


def convert_city(src,
                 out_dir,
                 city,
                 split,
                 size=96,
                 stride=None,
                 image_folders=('imgs_1', 'imgs_2')):
    """Write the patches of one city; returns their number."""
    stride = stride or size
    data = read_city(src, city, split, image_folders)
    h, w = data['change'].shape
    try:
        rows, cols = patch_offsets(h, size, stride), patch_offsets(w, size, stride)
    except ValueError as e:
        raise ValueError(f'OSCD city {city} ({h} x {w} px): {e}') from e
    for sub in ('pre', 'post', 'cm'):
        os.makedirs(osp.join(out_dir, city, sub), exist_ok=True)
    shutil.copyfile(
        osp.join(src, OSCD_DIRS['images'], city, 'dates.txt'),
        osp.join(out_dir, city, 'dates.txt'))
    gt = data['geotransform']
    for r in rows:
        for c in cols:
            pre, post, change = (osp.join(out_dir, p) for p in patch_layout(city, r, c))
            window = (slice(r, r + size), slice(c, c + size))
            patch_gt = None if gt is None else (gt[0] + c * gt[1], gt[1], 0.0,
                                                gt[3] + r * gt[5], 0.0, gt[5])
            for path, key in ((pre, 'pre'), (post, 'post')):
                write_geotiff(path, data[key][(slice(None), ) + window], patch_gt,
                              data['crs'], S2_BANDS)
            cv2.imwrite(change, np.ascontiguousarray(data['change'][window]))
    return len(rows) * len(cols)


def convert(src,
            out_dir,
            size=96,
            stride=None,
            splits=('train', 'test'),
            image_folders=('imgs_1', 'imgs_2'),
            progress=True):
    """Convert the cities of ``splits``; returns {split: number of patches}."""
    check_layout(src)
    cities = {
        s: read_city_list(osp.join(src, OSCD_DIRS['images'], s + '.txt'))
        for s in splits
    }
    os.makedirs(out_dir, exist_ok=True)
    total = sum(len(c) for c in cities.values())
    bar = ProgressBar(total) if progress and total else None
    counts = {}
    for split, names in cities.items():
        counts[split] = 0
        for city in names:
            counts[split] += convert_city(src, out_dir, city, split, size, stride,
                                          image_folders)
            if bar:
                bar.update()
        with open(osp.join(out_dir, split + '.txt'), 'w', encoding='utf-8') as f:
            f.write(','.join(names) + '\n')
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Cut OSCD city pairs into patches')
    parser.add_argument('src', help='folder with the official OSCD folders')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--size', type=int, default=96, help='patch size in pixels')
    parser.add_argument(
        '--stride', type=int, default=None, help='window step (default: --size)')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'test'], choices=['train', 'test'])
    parser.add_argument(
        '--rect', action='store_true', help='use imgs_1_rect / imgs_2_rect')
    args = parser.parse_args(argv)
    if args.size <= 0 or (args.stride is not None and args.stride <= 0):
        parser.error('--size and --stride must be positive')
    return args


def main(argv=None):
    args = parse_args(argv)
    folders = ('imgs_1_rect', 'imgs_2_rect') if args.rect else ('imgs_1', 'imgs_2')
    try:
        counts = convert(args.src, args.out_dir, args.size, args.stride, args.splits,
                         folders)
    except (FileNotFoundError, ValueError, RasterReadError) as e:
        sys.exit(f'oscd.py: error: {e}')
    print('\n' + ', '.join(f'{s}: {n} patches' for s, n in counts.items()))
    return counts


if __name__ == '__main__':
    main()
