"""A tiny DIOR / DIOR-R in the official layout (5 images of 128 px, 2-3 objects each).

::

    root/JPEGImages-trainval/00001.jpg 00002.jpg 00003.jpg
    root/JPEGImages-test/11726.jpg 11727.jpg
    root/Annotations/Horizontal Bounding Boxes/<id>.xml   (VOC <bndbox>)
    root/Annotations/Oriented Bounding Boxes/<id>.xml     (DIOR-R <robndbox>)
    root/ImageSets/Main/train.txt val.txt test.txt

Object names are spelt as in DIOR's files (``Expressway-Service-area``).
"""
import math
import os.path as osp
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

SPLITS = dict(train=['00001', '00002'], val=['00003'], test=['11726', '11727'])
# id -> [(name, (xmin, ymin, xmax, ymax), obb angle in degrees)]
OBJECTS = {
    '00001': [('airplane', (10, 12, 40, 30), 0),
              ('Expressway-Service-area', (50, 60, 120, 110), 30)],
    '00002': [('vehicle', (5, 5, 20, 15), 0), ('ship', (70, 30, 100, 90), 45),
              ('windmill', (20, 80, 40, 120), 0)],
    '00003': [('storagetank', (30, 30, 60, 60), 0),
              ('Expressway-toll-station', (70, 70, 110, 100), 10)],
    '11726': [('bridge', (10, 40, 118, 60), 20), ('dam', (60, 90, 100, 120), 0)],
    '11727': [('golffield', (8, 8, 100, 100), 0), ('chimney', (105, 20, 115, 60), 0)],
}


def obb_corners(box, angle):
    """Corners (lt, rt, rb, lb) of ``box`` rotated by ``angle`` about its centre."""
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(cx + dx * c - dy * s, cy + dx * s + dy * c)
            for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2,
                                                                               h / 2))]


def _xml(img_id, size, objects, oriented):
    ann = ET.Element('annotation')
    ET.SubElement(ann, 'filename').text = f'{img_id}.jpg'
    sz = ET.SubElement(ann, 'size')
    for tag, val in (('width', size), ('height', size), ('depth', 3)):
        ET.SubElement(sz, tag).text = str(val)
    for name, box, angle in objects:
        obj = ET.SubElement(ann, 'object')
        ET.SubElement(obj, 'name').text = name
        ET.SubElement(obj, 'pose').text = 'Unspecified'
        ET.SubElement(obj, 'truncated').text = '0'
        ET.SubElement(obj, 'difficult').text = '0'
        if oriented:
            ET.SubElement(obj, 'type').text = 'robndbox'
            rb = ET.SubElement(obj, 'robndbox')
            for corner, (x, y) in zip(
                ('left_top', 'right_top', 'right_bottom', 'left_bottom'),
                    obb_corners(box, angle)):
                ET.SubElement(rb, f'x_{corner}').text = f'{x:.2f}'
                ET.SubElement(rb, f'y_{corner}').text = f'{y:.2f}'
            ET.SubElement(obj, 'angle').text = str(angle)
        else:
            bb = ET.SubElement(obj, 'bndbox')
            for tag, val in zip(('xmin', 'ymin', 'xmax', 'ymax'), box):
                ET.SubElement(bb, tag).text = str(val)
    return ET.ElementTree(ann)


def make_dior(root, size=128):
    """Write the fake DIOR under ``root``; returns what the tests check against."""
    root = Path(root)
    hbb = root / 'Annotations' / 'Horizontal Bounding Boxes'
    obb = root / 'Annotations' / 'Oriented Bounding Boxes'
    for d in (hbb, obb, root / 'ImageSets' / 'Main'):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split, ids in SPLITS.items():
        img_dir = root / ('JPEGImages-test'
                          if split == 'test' else 'JPEGImages-trainval')
        img_dir.mkdir(exist_ok=True)
        (root / 'ImageSets' / 'Main' / f'{split}.txt').write_text('\n'.join(ids) + '\n')
        for img_id in ids:
            img = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            cv2.imwrite(str(img_dir / f'{img_id}.jpg'), img)
            _xml(img_id, size, OBJECTS[img_id],
                 False).write(osp.join(hbb, f'{img_id}.xml'))
            _xml(img_id, size, OBJECTS[img_id],
                 True).write(osp.join(obb, f'{img_id}.xml'))
    return dict(root=str(root), size=size, splits=SPLITS, objects=OBJECTS)
