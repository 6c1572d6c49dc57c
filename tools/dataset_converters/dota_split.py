"""Cut DOTA-format images and txt annotations into patches (DOTA, FAIR1M, ...).

Input: one or more DOTA-format folders (DOTA's ``train/``, ``val/``, or the output of
``fair1m_to_dota.py``)::

    <src>/images/P0000.png ...      (.png, .tif, .jpg, .bmp)
    <src>/labelTxt/P0000.txt        x1 y1 ... x4 y4 class difficulty  (optional folder)

Output, what mmrotate's ``DOTADataset`` reads (``ann_file='<out-dir>/annfiles/'``)::

    <out-dir>/images/P0000__1024__0___0.png ...
    <out-dir>/annfiles/P0000__1024__0___0.txt      (only when labels were given)

This follows mmrotate's ``tools/data/dota/split/img_split.py``: windows of ``--size``
overlapping by ``--gap`` (step = size - gap), the last window flush with the image
border, windows mostly outside the image (image area / window area <=
``--img-rate-thr``) dropped, short patches padded; with ``--rates`` the window is
``size / rate`` (and the gap ``gap / rate``), the patch keeps the window's size, and
patch names ``<id>__<window>__<x>___<y>`` are those ``DOTAMetric(merge_patches=True)``
parses. An object goes to a window when the part of its polygon inside the window is at
least ``--iof-thr`` of its area (IoF); a cut object is marked difficulty 2 and, unless
``--no-clip``, replaced by the minimum-area rectangle of its visible part, as the DOTA
devkit does (mmrotate keeps the whole polygon, reaching outside the patch). Polygon
intersections use OpenCV (no shapely needed).
"""
import argparse
import os
import os.path as osp
import sys
from functools import partial
from math import ceil

import cv2
import numpy as np
from mmengine.utils import mkdir_or_exist, track_parallel_progress, track_progress

IMG_EXTS = ('.png', '.tif', '.tiff', '.jpg', '.jpeg', '.bmp')
TRUNCATED = 2  # difficulty of a cut object, as in mmrotate and the DOTA devkit


def _layout_error(path, what):
    return FileNotFoundError(
        f'dota_split: "{path}" {what}. Expected DOTA format: <src>/images/*.png '
        '(or .tif/.jpg/.bmp) and optionally <src>/labelTxt/*.txt with lines '
        '"x1 y1 x2 y2 x3 y3 x4 y4 class difficulty".')


def load_dota_txt(path):
    """Polygons (N, 8) float32, class names, difficulties (N,) of a DOTA txt file.

    Header lines (``imagesource:``, ``gsd:``) and lines with fewer than 9 fields are
    skipped; a missing difficulty is 0. A missing file means no objects.
    """
    polys, names, diffs = [], [], []
    if path is not None and osp.isfile(path):
        with open(path) as f:
            for line in f:
                items = line.split()
                if len(items) < 9:
                    continue
                try:
                    polys.append([float(v) for v in items[:8]])
                except ValueError:
                    raise ValueError(f'dota_split: "{path}" has a malformed line: '
                                     f'"{line.strip()}".') from None
                names.append(items[8])
                diffs.append(int(items[9]) if len(items) > 9 else 0)
    return (np.array(polys, np.float32).reshape(-1,
                                                8), names, np.array(diffs, np.int64))


def sliding_windows(width, height, sizes, gaps, img_rate_thr=0.6):
    """(M, 4) int windows ``x0, y0, x1, y1``, as mmrotate's ``get_sliding_window``."""
    windows = []
    for size, gap in zip(sizes, gaps):
        if not 0 <= gap < size:
            raise ValueError(f'dota_split: gap {gap} must be in [0, size {size}).')
        step = size - gap
        starts = []
        for length in (width, height):
            num = 1 if length <= size else ceil((length - size) / step + 1)
            s = [step * i for i in range(num)]
            if len(s) > 1 and s[-1] + size > length:
                s[-1] = length - size
            starts.append(s)
        for x in starts[0]:
            for y in starts[1]:
                windows.append((x, y, x + size, y + size))
    windows = np.array(windows, np.int64).reshape(-1, 4)
    inside = windows.copy()
    inside[:, 0::2] = np.clip(inside[:, 0::2], 0, width)
    inside[:, 1::2] = np.clip(inside[:, 1::2], 0, height)
    rates = ((inside[:, 2] - inside[:, 0]) * (inside[:, 3] - inside[:, 1]) /
             ((windows[:, 2] - windows[:, 0]) * (windows[:, 3] - windows[:, 1])))
    if not (rates > img_rate_thr).any():
        # As mmrotate: keep the windows covering most of the image.
        rates[np.abs(rates - rates.max()) < 0.01] = 1
    return windows[rates > img_rate_thr]


def _best_order(rect, poly):
    """``rect`` (4, 2) cyclically shifted to start nearest ``poly``'s first corner."""
    shifts = [np.roll(rect, -k, axis=0) for k in range(4)]
    return min(shifts, key=lambda r: np.abs(r - poly).sum())


def window_objects(polys, window, iof_thr=0.7, clip=True):
    """Objects of one window: ``(indices, polygons in window coordinates, cut flags)``.

    An object is kept when its IoF with the window is >= ``iof_thr``. A cut object
    (IoF < 1) is, with ``clip``, replaced by the minimum-area rectangle of its part
    inside the window.
    """
    x0, y0, x1, y1 = (float(v) for v in window)
    win = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    keep, out, cut = [], [], []
    for i, poly in enumerate(polys.reshape(-1, 4, 2)):
        if (poly[:, 0].max() <= x0 or poly[:, 0].min() >= x1 or poly[:, 1].max() <= y0
                or poly[:, 1].min() >= y1):
            continue
        hull = cv2.convexHull(poly.astype(np.float32))
        area = cv2.contourArea(hull)
        if area <= 0:  # degenerate polygon: in when all its corners are
            inside = ((poly[:, 0] >= x0) & (poly[:, 0] <= x1) & (poly[:, 1] >= y0) &
                      (poly[:, 1] <= y1)).all()
            iof, part = float(inside), None
        else:
            inter, part = cv2.intersectConvexConvex(hull, win)
            iof = inter / area
        if iof < iof_thr:
            continue
        truncated = iof < 1 - 1e-6
        new = poly
        if truncated and clip and part is not None and len(part) >= 3:
            rect = cv2.boxPoints(cv2.minAreaRect(part.reshape(-1, 2)))
            new = _best_order(rect, poly)
        keep.append(i)
        out.append((new - np.array([x0, y0], np.float32)).reshape(8))
        cut.append(truncated)
    return keep, np.array(out, np.float32).reshape(-1, 8), np.array(cut, bool)


def _fmt(v):
    return f'{v:.1f}'


def split_one(task,
              out_dir,
              sizes,
              gaps,
              iof_thr=0.7,
              img_rate_thr=0.6,
              padding_value=(104, 116, 124),
              clip=True,
              save_ext='.png'):
    """Cut one image (and its txt); returns ``[(patch id, number of objects)]``."""
    img_path, txt_path = task
    img = cv2.imread(img_path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'dota_split: cannot read the image "{img_path}".')
    height, width = img.shape[:2]
    polys, names, diffs = load_dota_txt(txt_path)
    img_id = osp.splitext(osp.basename(img_path))[0]
    patches = []
    for window in sliding_windows(width, height, sizes, gaps, img_rate_thr):
        x0, y0, x1, y1 = window.tolist()
        patch_id = f'{img_id}__{x1 - x0}__{x0}___{y0}'
        patch = img[y0:y1, x0:x1]
        if patch.shape[:2] != (y1 - y0, x1 - x0):  # window past the border: pad
            padded = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
            padded[...] = padding_value
            padded[:patch.shape[0], :patch.shape[1]] = patch
            patch = padded
        cv2.imwrite(osp.join(out_dir, 'images', patch_id + save_ext), patch)
        if txt_path is None:
            patches.append((patch_id, 0))
            continue
        keep, new_polys, cut = window_objects(polys, window, iof_thr, clip)
        with open(osp.join(out_dir, 'annfiles', patch_id + '.txt'), 'w') as f:
            for j, i in enumerate(keep):
                diff = TRUNCATED if cut[j] else diffs[i]
                f.write(' '.join(map(_fmt, new_polys[j])) + f' {names[i]} {diff}\n')
        patches.append((patch_id, len(keep)))
    return patches


def collect_tasks(srcs, ann_subdir='labelTxt'):
    """[(image path, txt path or None)] of DOTA-format folders; checks the layout."""
    tasks, seen = [], {}
    for src in srcs:
        img_dir, ann_dir = osp.join(src, 'images'), osp.join(src, ann_subdir)
        if not osp.isdir(img_dir):
            raise _layout_error(img_dir, 'does not exist')
        has_ann = osp.isdir(ann_dir)
        for name in sorted(os.listdir(img_dir)):
            stem, ext = osp.splitext(name)
            if ext.lower() not in IMG_EXTS:
                continue
            if stem in seen:
                raise ValueError(f'dota_split: image id "{stem}" is in both '
                                 f'"{seen[stem]}" and "{img_dir}".')
            seen[stem] = img_dir
            txt = osp.join(ann_dir, stem + '.txt') if has_ann else None
            tasks.append((osp.join(img_dir, name), txt))
    if not tasks:
        raise _layout_error(osp.join(srcs[0], 'images'), 'holds no image')
    return tasks


def split_dota(srcs,
               out_dir,
               size=1024,
               gap=200,
               rates=(1.0, ),
               iof_thr=0.7,
               img_rate_thr=0.6,
               padding_value=(104, 116, 124),
               clip=True,
               ann_subdir='labelTxt',
               nproc=1):
    """Cut every image of the DOTA-format folders ``srcs`` into ``out_dir``.

    Returns ``[(patch id, number of objects)]`` of all patches written.
    """
    if isinstance(srcs, str):
        srcs = [srcs]
    if not 0 <= iof_thr <= 1:
        raise ValueError(f'dota_split: iof_thr {iof_thr} must be in [0, 1].')
    tasks = collect_tasks(srcs, ann_subdir)
    sizes = [int(size / r) for r in rates]
    gaps = [int(gap / r) for r in rates]
    mkdir_or_exist(osp.join(out_dir, 'images'))
    if any(t[1] is not None for t in tasks):
        mkdir_or_exist(osp.join(out_dir, 'annfiles'))
    func = partial(
        split_one,
        out_dir=out_dir,
        sizes=sizes,
        gaps=gaps,
        iof_thr=iof_thr,
        img_rate_thr=img_rate_thr,
        padding_value=tuple(padding_value),
        clip=clip)
    if nproc > 1:
        results = track_parallel_progress(func, tasks, nproc)
    else:
        results = track_progress(func, tasks)
    return [p for patches in results for p in patches]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cut DOTA-format images (+ labelTxt) into overlapping patches '
        'for mmrotate DOTADataset (works for DOTA and for FAIR1M after '
        'fair1m_to_dota.py).')
    parser.add_argument(
        'src', nargs='+', help='DOTA-format folders holding images/ (and labelTxt/)')
    parser.add_argument(
        '-o', '--out-dir', required=True, help='output folder (images/, annfiles/)')
    parser.add_argument('--size', type=int, default=1024, help='window side (px)')
    parser.add_argument(
        '--gap', type=int, default=200, help='overlap of neighbouring windows (px)')
    parser.add_argument(
        '--rates',
        type=float,
        nargs='+',
        default=[1.0],
        help='multi-scale: one window of size/rate per rate, e.g. 0.5 1.0 1.5')
    parser.add_argument(
        '--iof-thr',
        type=float,
        default=0.7,
        help='keep an object in a window when this share of it is inside')
    parser.add_argument(
        '--img-rate-thr',
        type=float,
        default=0.6,
        help='drop windows whose share inside the image is not above this')
    parser.add_argument(
        '--padding-value',
        type=int,
        nargs=3,
        default=[104, 116, 124],
        help='BGR fill of patches past the border')
    parser.add_argument(
        '--no-clip',
        action='store_true',
        help='keep cut objects whole (mmrotate) instead of clipping them (DOTA devkit)')
    parser.add_argument(
        '--ann-subdir', default='labelTxt', help='annotation folder name in each src')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        patches = split_dota(args.src, args.out_dir, args.size, args.gap, args.rates,
                             args.iof_thr, args.img_rate_thr, args.padding_value,
                             not args.no_clip, args.ann_subdir, args.nproc)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'Done: {len(patches)} patches, {sum(n for _, n in patches)} objects in '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
