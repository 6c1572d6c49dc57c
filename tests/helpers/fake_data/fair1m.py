"""A tiny FAIR1M-1.0 in the official layout (4 images, 1-5 objects each).

::

    root/train/part1/images/0.tif 1.tif     root/train/part1/labelXml/0.xml 1.xml
    root/train/part2/images/2.tif           root/train/part2/labelXml/2.xml
    root/validation/images/3.tif            root/validation/labelXml/3.xml

``0.tif`` is 1300 x 1000 px, so 1024 px windows with a 200 px gap give two patches
(x = 0 and x = 276). Its objects sit: only in the first window, in both, across the
first window's right border with 55 % inside it (dropped there at IoF 0.7), and across
it with 80 % inside (kept there, clipped). ``1.xml`` has one object of a class that is
not FAIR1M's.
"""
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

# image -> (part folder, (height, width), [(class, polygon x1 y1 ... x4 y4)])
IMAGES = {
    '0': ('train/part1', (1000, 1300), [
        ('Boeing737', (100, 100, 200, 100, 200, 180, 100, 180)),
        ('Small Car', (400, 300, 500, 300, 500, 360, 400, 360)),
        ('Passenger Ship', (980, 500, 1060, 500, 1060, 560, 980, 560)),
        ('Tennis Court', (1000, 700, 1030, 700, 1030, 760, 1000, 760)),
        ('Bridge', (150, 560, 190, 600, 150, 640, 110, 600)),
    ]),
    '1': ('train/part1', (500, 600), [
        ('Basketball Court', (50, 50, 150, 50, 150, 120, 50, 120)),
        ('UFO', (200, 200, 220, 200, 220, 220, 200, 220)),
    ]),
    '2':
    ('train/part2', (400, 400), [('other-ship', (10, 10, 60, 10, 60, 40, 10, 40))]),
    '3':
    ('validation', (500, 500), [('A350', (100, 100, 180, 100, 180, 160, 100, 160))]),
}


def _xml(name, hw, objects):
    ann = ET.Element('annotation')
    src = ET.SubElement(ann, 'source')
    ET.SubElement(src, 'filename').text = f'{name}.tif'
    ET.SubElement(src, 'origin').text = 'GF2/GF3'
    size = ET.SubElement(ann, 'size')
    for tag, val in (('width', hw[1]), ('height', hw[0]), ('depth', 3)):
        ET.SubElement(size, tag).text = str(val)
    objs = ET.SubElement(ann, 'objects')
    for cls, poly in objects:
        obj = ET.SubElement(objs, 'object')
        ET.SubElement(obj, 'coordinate').text = 'pixel'
        ET.SubElement(obj, 'type').text = 'rectangle'
        ET.SubElement(obj, 'description').text = 'None'
        res = ET.SubElement(obj, 'possibleresult')
        ET.SubElement(res, 'name').text = cls
        ET.SubElement(res, 'probability').text = '1'
        points = ET.SubElement(obj, 'points')
        corners = list(zip(poly[0::2], poly[1::2]))
        for x, y in corners + corners[:1]:  # closed ring, as in FAIR1M
            ET.SubElement(points, 'point').text = f'{x:.6f},{y:.6f}'
    return ET.ElementTree(ann)


def make_fair1m(root):
    """Write the fake FAIR1M under ``root``; returns what the tests check against."""
    root = Path(root)
    for name, (part, hw, objects) in IMAGES.items():
        (root / part / 'images').mkdir(parents=True, exist_ok=True)
        (root / part / 'labelXml').mkdir(parents=True, exist_ok=True)
        img = np.zeros(hw + (3, ), np.uint8)
        img[..., 0] = np.arange(hw[1]) % 256  # blue encodes the column
        img[..., 1] = (np.arange(hw[0]) % 256)[:, None]  # green encodes the row
        cv2.imwrite(str(root / part / 'images' / f'{name}.tif'), img)
        _xml(name, hw, objects).write(root / part / 'labelXml' / f'{name}.xml')
    return dict(root=str(root), images=IMAGES)
