"""Cut the official iSAID download into the patches mmseg's ``iSAIDDataset`` reads.

Input, the official layout (zip archives as downloaded, or already extracted)::

    iSAID/
    ├── train/
    │   ├── images/part1.zip ...           members images/P0000.png ...
    │   └── Semantic_masks/images.zip      members images/P0000_instance_color_RGB.png
    ├── val/    (same)
    └── test/images/part1.zip ...          (no masks)

Output (``configs/_base_/datasets/isaid.py``, mmseg ``iSAIDDataset``)::

    <out-dir>/img_dir/{train,val}/P0000_<y0>_<y1>_<x0>_<x1>.png
    <out-dir>/ann_dir/{train,val}/P0000_<y0>_<y1>_<x0>_<x1>_instance_color_RGB.png

As mmseg's own ``tools/dataset_converters/isaid.py``: 896 x 896 patches every 512 px
(overlap 384), the last row/column flush with the image border, images smaller than a
patch padded (image 0, label 255); RGB label colours become class indices 0-15 with
the palette of ``iSAIDDataset``, colours outside it become 0 (background). Differences:
patches are written once each (mmseg writes some twice) and as real PNG (mmseg writes
BMP data under ``.png`` names), zips are read in place (no extraction), an image
smaller than a patch on one side and exactly a patch on the other is padded too
(mmseg misses that case), and ``test`` (images only; mmseg moves them uncut) is cut
into patches as well when asked for with ``--splits``.
"""
import argparse
import os
import os.path as osp
import sys
import zipfile
from functools import partial

import cv2
import numpy as np
from mmengine.utils import mkdir_or_exist, track_parallel_progress, track_progress

MASK_SUFFIX = '_instance_color_RGB.png'
IGNORE_INDEX = 255


def isaid_palette():
    """RGB colour of each class index, from mmseg's ``iSAIDDataset`` (16 entries)."""
    from mmseg.datasets import iSAIDDataset
    return [tuple(c) for c in iSAIDDataset.METAINFO['palette']]


def rgb_to_label(rgb, palette=None):
    """(H, W, 3) RGB colours -> (H, W) uint8 class indices (unknown colours -> 0)."""
    palette = isaid_palette() if palette is None else palette
    rgb = rgb.astype(np.int32)
    code = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    label = np.zeros(code.shape, np.uint8)
    for idx, (r, g, b) in enumerate(palette):
        label[code == ((r << 16) | (g << 8) | b)] = idx
    return label


def window_starts(length, patch_size, stride):
    """Start offsets along one axis; the last window ends at ``max(length, patch)``."""
    if length <= patch_size:
        return [0]
    starts = list(range(0, length - patch_size, stride))
    return starts + [length - patch_size]


def _pad_to(arr, patch_size, value):
    h, w = arr.shape[:2]
    ph, pw = max(patch_size - h, 0), max(patch_size - w, 0)
    if ph == 0 and pw == 0:
        return arr
    pad = ((0, ph), (0, pw)) + ((0, 0), ) * (arr.ndim - 2)
    return np.pad(arr, pad, constant_values=value)


def crop_patches(img, label=None, patch_size=896, stride=512):
    """Yield ``(name_suffix, img_patch, label_patch)`` over a padded image.

    ``name_suffix`` is ``'_<y0>_<y1>_<x0>_<x1>'`` in (padded) pixel coordinates, as
    mmseg's converter names the patches. ``label_patch`` is None without a label.
    """
    img = _pad_to(img, patch_size, 0)
    if label is not None:
        label = _pad_to(label, patch_size, IGNORE_INDEX)
    h, w = img.shape[:2]
    for y0 in window_starts(h, patch_size, stride):
        for x0 in window_starts(w, patch_size, stride):
            y1, x1 = y0 + patch_size, x0 + patch_size
            lab = None if label is None else label[y0:y1, x0:x1]
            yield f'_{y0}_{y1}_{x0}_{x1}', img[y0:y1, x0:x1], lab


def _collect_pngs(folder):
    """{file name: source} of the PNGs in ``folder``: in its zips or as files."""
    found = {}
    for entry in sorted(os.listdir(folder)):
        path = osp.join(folder, entry)
        if entry.lower().endswith('.zip'):
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    if member.lower().endswith('.png'):
                        found[osp.basename(member)] = ('zip', path, member)
        elif osp.isdir(path):
            for sub, _, files in os.walk(path):
                for name in files:
                    if name.lower().endswith('.png'):
                        found[name] = ('file', osp.join(sub, name), None)
        elif entry.lower().endswith('.png'):
            found[entry] = ('file', path, None)
    return found


def _read(source, flags):
    kind, path, member = source
    if kind == 'zip':
        with zipfile.ZipFile(path) as zf:
            data = np.frombuffer(zf.read(member), np.uint8)
    else:
        data = np.fromfile(path, np.uint8)
    arr = cv2.imdecode(data, flags)
    if arr is None:
        where = f'{path}:{member}' if member else path
        raise ValueError(f'iSAID: cannot decode the PNG "{where}".')
    return arr


def _layout_error(path, what):
    return FileNotFoundError(
        f'iSAID: "{path}" {what}. Expected the official layout: '
        '<src>/{train,val}/images/*.zip (or extracted images/*.png) and '
        '<src>/{train,val}/Semantic_masks/*.zip with *_instance_color_RGB.png masks; '
        '<src>/test/images/*.zip.')


def find_pairs(src, split):
    """[(image id, image source, mask source or None)] of one split (raw layout)."""
    split_dir = osp.join(src, split)
    img_dir = osp.join(split_dir, 'images')
    if not osp.isdir(img_dir):
        raise _layout_error(img_dir, 'does not exist')
    images = {
        n[:-4]: s
        for n, s in _collect_pngs(img_dir).items()
        if not n.endswith(MASK_SUFFIX) and not n.endswith('_instance_id_RGB.png')
    }
    if not images:
        raise _layout_error(img_dir, 'holds no PNG image (in zips or as files)')
    if split == 'test':
        return [(k, images[k], None) for k in sorted(images)]
    mask_dir = osp.join(split_dir, 'Semantic_masks')
    if not osp.isdir(mask_dir):
        raise _layout_error(mask_dir, 'does not exist')
    masks = {
        n[:-len(MASK_SUFFIX)]: s
        for n, s in _collect_pngs(mask_dir).items() if n.endswith(MASK_SUFFIX)
    }
    missing = sorted(set(images) - set(masks))
    if missing:
        raise _layout_error(
            mask_dir, f'has no "<id>{MASK_SUFFIX}" mask for the images {missing[:5]}'
            f'{" ..." if len(missing) > 5 else ""}')
    return [(k, images[k], masks[k]) for k in sorted(images)]


def convert_one(pair, out_dir, split, patch_size=896, stride=512, palette=None):
    """Cut one image (and its mask) into patches; returns the number of patches."""
    img_id, img_src, mask_src = pair
    img = _read(img_src, cv2.IMREAD_COLOR)
    label = None
    if mask_src is not None:
        rgb = cv2.cvtColor(_read(mask_src, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        if rgb.shape[:2] != img.shape[:2]:
            raise ValueError(f'iSAID: mask of "{img_id}" is {rgb.shape[:2]}, image is '
                             f'{img.shape[:2]}.')
        label = rgb_to_label(rgb, palette)
    count = 0
    for suffix, img_patch, lab_patch in crop_patches(img, label, patch_size, stride):
        cv2.imwrite(
            osp.join(out_dir, 'img_dir', split, f'{img_id}{suffix}.png'), img_patch)
        if lab_patch is not None:
            cv2.imwrite(
                osp.join(out_dir, 'ann_dir', split, f'{img_id}{suffix}{MASK_SUFFIX}'),
                lab_patch)
        count += 1
    return count


def convert_isaid(src,
                  out_dir,
                  splits=('train', 'val'),
                  patch_size=896,
                  stride=512,
                  nproc=1):
    """Convert the official iSAID layout under ``src``; returns {split: patch count}."""
    if not osp.isdir(src):
        raise _layout_error(src, 'is not a folder')
    if not 0 < stride <= patch_size:
        raise ValueError(f'iSAID: stride {stride} must be in (0, {patch_size}].')
    palette = isaid_palette()
    pairs = {split: find_pairs(src, split) for split in splits}  # check all first
    counts = {}
    for split in splits:
        mkdir_or_exist(osp.join(out_dir, 'img_dir', split))
        if split != 'test':
            mkdir_or_exist(osp.join(out_dir, 'ann_dir', split))
        func = partial(
            convert_one,
            out_dir=out_dir,
            split=split,
            patch_size=patch_size,
            stride=stride,
            palette=palette)
        print(f'iSAID {split}: {len(pairs[split])} images')
        if nproc > 1:
            n = track_parallel_progress(func, pairs[split], nproc)
        else:
            n = track_progress(func, pairs[split])
        counts[split] = int(sum(n))
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cut the official iSAID download (zips or extracted) into '
        'patches with class-index label PNGs for mmseg iSAIDDataset.')
    parser.add_argument('src', help='iSAID root holding train/, val/ (and test/)')
    parser.add_argument(
        '-o',
        '--out-dir',
        default='data/isaid',
        help='output root (img_dir/, ann_dir/)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val'],
        choices=['train', 'val', 'test'],
        help='splits to convert (test: images only)')
    parser.add_argument('--patch-size', type=int, default=896, help='patch side (px)')
    parser.add_argument(
        '--stride',
        type=int,
        default=512,
        help='patch step (px), overlap = size - step')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        counts = convert_isaid(args.src, args.out_dir, args.splits, args.patch_size,
                               args.stride, args.nproc)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'Done: {counts} patches in {args.out_dir}')


if __name__ == '__main__':
    main()
