"""Convert FAIR1M XML annotations to DOTA txt files (then cut with ``dota_split.py``).

Input, the official FAIR1M layout: one or more folders (``train/part1``,
``train/part2``, ``validation``; given directly or found under ``src``) each with::

    images/0.tif ...
    labelXml/0.xml ...      (``labelXmls/`` accepted too)

where each XML holds ``<objects><object><possibleresult><name>Small Car</name>...``
and ``<points>`` with five ``<point>x,y</point>`` (the first corner repeated).

Output, DOTA format (what mmrotate's ``img_split.py`` and ``dota_split.py`` read)::

    <out-dir>/images/0.tif ...     (symlinks, copies or PNG, see ``--images``)
    <out-dir>/labelTxt/0.txt       x1 y1 x2 y2 x3 y3 x4 y4 Small_Car 0

Class names carry ``_`` for spaces (DOTA lines are whitespace-separated) and are those
of ``eofm.FAIR1MDataset``; FAIR1M has no difficulty flag, so it is 0. Objects of an
unknown class are skipped and counted.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import xml.etree.ElementTree as ET
from functools import partial

from mmengine.utils import mkdir_or_exist, track_parallel_progress, track_progress

IMG_EXTS = ('.tif', '.tiff', '.png', '.jpg', '.bmp')
ANN_DIRS = ('labelXml', 'labelXmls')


def _layout_error(path, what):
    return FileNotFoundError(
        f'FAIR1M: "{path}" {what}. Expected the official layout: folders such as '
        'train/part1/ holding images/*.tif and labelXml/*.xml.')


def find_parts(src):
    """Folders at or under ``src`` that hold ``images/`` and ``labelXml(s)/``."""
    if not osp.isdir(src):
        raise _layout_error(src, 'is not a folder')
    parts = []
    for root, dirs, _ in os.walk(src):
        ann = [d for d in ANN_DIRS if d in dirs]
        if 'images' in dirs and ann:
            parts.append((osp.join(root, 'images'), osp.join(root, ann[0])))
            dirs[:] = []  # do not descend into a part
    if not parts:
        raise _layout_error(src, 'holds no folder with images/ and labelXml/')
    return sorted(parts)


def parse_fair1m_xml(path):
    """[(8 floats, class name as written)] of one FAIR1M XML file."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f'FAIR1M: "{path}" is not valid XML ({err}).') from None
    objects = []
    for obj in root.iter('object'):
        name = obj.findtext('possibleresult/name')
        points = [p.text for p in obj.iter('point')]
        if name is None or len(points) < 4:
            raise ValueError(f'FAIR1M: an object of "{path}" lacks '
                             '<possibleresult><name> or four <points><point>.')
        # The fifth point closes the polygon (it repeats the first).
        coords = [float(v) for p in points[:4] for v in p.split(',')]
        objects.append((coords, name.strip()))
    return objects


def _image_for(img_dir, stem):
    for ext in IMG_EXTS:
        for cand in (stem + ext, stem + ext.upper()):
            if osp.isfile(osp.join(img_dir, cand)):
                return osp.join(img_dir, cand)
    return None


def convert_one(task, out_dir, images='symlink'):
    """Write the DOTA txt (and image) of one XML; returns (objects, skipped names)."""
    from eofm.datasets.detection import fair1m_dota_name
    xml_path, img_path = task
    stem = osp.splitext(osp.basename(xml_path))[0]
    lines, skipped = [], []
    for coords, name in parse_fair1m_xml(xml_path):
        dota_name = fair1m_dota_name(name)
        if dota_name is None:
            skipped.append(name)
            continue
        lines.append(' '.join(map(str, coords)) + f' {dota_name} 0\n')
    with open(osp.join(out_dir, 'labelTxt', stem + '.txt'), 'w') as f:
        f.writelines(lines)
    if images != 'none':
        ext = '.png' if images == 'png' else osp.splitext(img_path)[1]
        dst = osp.join(out_dir, 'images', stem + ext)
        if osp.lexists(dst):
            os.remove(dst)
        if images == 'symlink':
            os.symlink(osp.abspath(img_path), dst)
        elif images == 'copy':
            shutil.copyfile(img_path, dst)
        else:
            import cv2
            img = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
            if img is None:
                raise ValueError(f'FAIR1M: cannot read the image "{img_path}".')
            cv2.imwrite(dst, img)
    return len(lines), skipped


def fair1m_to_dota(srcs, out_dir, images='symlink', nproc=1):
    """Convert every FAIR1M part found in ``srcs`` into one DOTA folder ``out_dir``.

    Returns a dict with the numbers of ``images``, ``objects`` and the ``skipped``
    class names (name -> count).
    """
    if isinstance(srcs, str):
        srcs = [srcs]
    tasks, seen = [], {}
    for src in srcs:
        for img_dir, ann_dir in find_parts(src):
            for name in sorted(os.listdir(ann_dir)):
                if not name.lower().endswith('.xml'):
                    continue
                stem = osp.splitext(name)[0]
                img_path = _image_for(img_dir, stem)
                if img_path is None:
                    raise _layout_error(img_dir,
                                        f'has no image "{stem}.tif" for {name}')
                if stem in seen:
                    raise ValueError(f'FAIR1M: image id "{stem}" appears in both '
                                     f'"{seen[stem]}" and "{ann_dir}".')
                seen[stem] = ann_dir
                tasks.append((osp.join(ann_dir, name), img_path))
    if not tasks:
        raise _layout_error(', '.join(srcs), 'holds no XML file in labelXml/')
    mkdir_or_exist(osp.join(out_dir, 'labelTxt'))
    if images != 'none':
        mkdir_or_exist(osp.join(out_dir, 'images'))
    func = partial(convert_one, out_dir=out_dir, images=images)
    if nproc > 1:
        results = track_parallel_progress(func, tasks, nproc)
    else:
        results = track_progress(func, tasks)
    skipped = {}
    for _, names in results:
        for name in names:
            skipped[name] = skipped.get(name, 0) + 1
    return dict(images=len(tasks), objects=sum(n for n, _ in results), skipped=skipped)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert FAIR1M XML annotations (images/ + labelXml/ folders) to '
        'DOTA txt files (images/ + labelTxt/) for dota_split.py.')
    parser.add_argument(
        'src',
        nargs='+',
        help='FAIR1M folders, e.g. train/part1 train/part2, or a root holding them')
    parser.add_argument(
        '-o', '--out-dir', required=True, help='DOTA-format output folder')
    parser.add_argument(
        '--images',
        default='symlink',
        choices=['symlink', 'copy', 'png', 'none'],
        help='how images reach <out-dir>/images (png: re-encode; none: skip)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        stats = fair1m_to_dota(args.src, args.out_dir, args.images, args.nproc)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f"Done: {stats['images']} images, {stats['objects']} objects in "
          f'{args.out_dir}')
    if stats['skipped']:
        print(f"Skipped objects of unknown classes: {stats['skipped']}")


if __name__ == '__main__':
    main()
