"""Benchmark detection datasets (DIOR horizontal boxes, FAIR1M) over mmdet/mmrotate.

Only what the host classes lack is added here:

* DIOR with horizontal boxes (official layout, the DIOR-R release)::

      DIOR/
      ├── JPEGImages-trainval/00001.jpg ... 11725.jpg
      ├── JPEGImages-test/11726.jpg ... 23463.jpg
      ├── Annotations/
      │   ├── Horizontal Bounding Boxes/00001.xml ...   (VOC-style <bndbox>)
      │   └── Oriented Bounding Boxes/00001.xml ...     (<robndbox>, DIOR-R)
      └── ImageSets/Main/{train,val,test}.txt

  :class:`DIORHBBDataset` is mmdet's :class:`~mmdet.datasets.XMLDataset` with DIOR's
  20 classes; the object names of the XML files are matched case-insensitively
  (``Expressway-Service-area`` in the files, ``expressway-service-area`` in the class
  list), which ``XMLDataset`` does not do (it silently drops such objects). Objects
  whose class is not in the class list at all are still dropped (that is how a
  subset of classes is trained), but never unseen: each file records them
  (``unknown_classes``, which ``tools/misc/check_dataset.py`` reports per file), the
  dataset logs a warning with the counts, and a split left without any object is a
  :class:`NoInstancesError`. DIOR-R
  (oriented boxes) needs no class: mmrotate's ``DIORDataset`` reads the same layout
  (``configs/_base_/datasets/dior_r.py``).
* FAIR1M: :class:`FAIR1MDataset` is mmrotate's :class:`~mmrotate.datasets.DOTADataset`
  with FAIR1M-1.0's 37 fine-grained classes. It reads the DOTA-format patches written
  by ``tools/dataset_converters/fair1m_to_dota.py`` then ``dota_split.py``.
"""
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from typing import List, Optional

from mmdet.datasets import XMLDataset
from mmengine.logging import print_log
from mmrotate.datasets import DIORDataset, DOTADataset

from eofm.registry import DATASETS
from eofm.utils.palette import distinct_palette

__all__ = [
    'DIORHBBDataset', 'FAIR1MDataset', 'FAIR1M_CLASSES', 'fair1m_dota_name',
    'NoInstancesError'
]


class NoInstancesError(ValueError):
    """A detection split holds no object of its class list.

    ``file_problems`` maps each annotation file with objects of unknown classes to
    its problems (what ``tools/misc/check_dataset.py`` prints per file).
    """

    def __init__(self, message, file_problems=None):
        super().__init__(message)
        self.file_problems = dict(file_problems or {})


def unknown_class_problem(counts):
    """The text of one file's objects whose classes are not in the class list."""
    listed = ', '.join(f'{name!r} x {n}' for name, n in sorted(counts.items()))
    return f'objects of classes not in the class list (dropped): {listed}'


def _norm(name: str) -> str:
    return name.strip().lower()


@DATASETS.register_module()
class DIORHBBDataset(XMLDataset):
    """DIOR with horizontal boxes, in the official layout (see the module docstring).

    Reuses mmdet's ``XMLDataset`` (VOC-style XML parsing, ``ImageSets`` id lists,
    ``filter_cfg``); the class list and palette are mmrotate's ``DIORDataset`` ones.

    Args:
        img_subdir (str): Image folder under ``data_root``: ``'JPEGImages-trainval'``
            for the train/val lists, ``'JPEGImages-test'`` for the test list.
        ann_subdir (str): Annotation folder under ``data_root``.
            Defaults to ``'Annotations/Horizontal Bounding Boxes'``.
        minus_one (bool): Subtract 1 from the box coordinates, as mmdet does for
            1-based PASCAL VOC. DIOR is read without it by default, as mmrotate's
            ``DIORDataset`` reads its boxes.
        data_prefix (dict, optional): As in ``XMLDataset``; ``sub_data_root``
            defaults to ``''`` so that both folders are relative to ``data_root``.
        **kwargs: Other arguments of ``XMLDataset``.
    """

    METAINFO = DIORDataset.METAINFO

    def __init__(self,
                 img_subdir: str = 'JPEGImages-trainval',
                 ann_subdir: str = 'Annotations/Horizontal Bounding Boxes',
                 minus_one: bool = False,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        self.minus_one = minus_one
        # An empty 'sub_data_root' is joined to data_root by BaseDataset; without the
        # key, XMLDataset would look for the files relative to the working directory.
        data_prefix = dict(data_prefix or {})
        data_prefix.setdefault('sub_data_root', '')
        super().__init__(
            img_subdir=img_subdir,
            ann_subdir=ann_subdir,
            data_prefix=data_prefix,
            **kwargs)

    def _parse_instance_info(self,
                             raw_ann_info: ET.ElementTree,
                             minus_one: bool = True) -> List[dict]:
        """mmdet's parser after mapping each object name onto the class list.

        ``minus_one`` from mmdet's ``parse_data_info`` (always True) is replaced by
        ``self.minus_one``.
        """
        canonical = {_norm(c): c for c in self._metainfo['classes']}
        unknown = Counter()
        for obj in raw_ann_info.findall('object'):
            name = obj.find('name')
            if name is not None and name.text is not None:
                name.text = canonical.get(_norm(name.text), name.text)
                if _norm(name.text) not in canonical:
                    unknown[name.text] += 1
        self._unknown_in_file = dict(unknown)
        return super()._parse_instance_info(raw_ann_info, minus_one=self.minus_one)

    def parse_data_info(self, img_info: dict) -> dict:
        """mmdet's record, plus ``unknown_classes`` {name: count} of the objects
        whose class is not in the class list (dropped), when there are any."""
        self._unknown_in_file = {}
        info = super().parse_data_info(img_info)
        if self._unknown_in_file:
            info['unknown_classes'] = self._unknown_in_file
        return info

    def load_data_list(self) -> List[dict]:
        """mmdet's list; warns about objects of unknown classes, with counts, and
        raises :class:`NoInstancesError` when no object of the class list is left."""
        data_list = super().load_data_list()
        per_file = {
            d.get('xml_path', d.get('img_path')): d['unknown_classes']
            for d in data_list if d.get('unknown_classes')
        }
        totals = Counter()
        for counts in per_file.values():
            totals.update(counts)
        classes = list(self._metainfo['classes'])
        where = f'{type(self).__name__} ({self.ann_file})'
        message = ''
        if totals:
            message = (f'{where}: {sum(totals.values())} objects in {len(per_file)} of '
                       f'{len(data_list)} annotation files are dropped, their classes '
                       f'are not in the class list: {dict(sorted(totals.items()))} '
                       f'(class list: {classes}); give the dataset '
                       'metainfo=dict(classes=(...)) to train on them')
        if data_list and not any(d.get('instances') for d in data_list):
            raise NoInstancesError(
                (message + '. ' if message else f'{where}: ') +
                f'No object of the class list is left in the {len(data_list)} '
                'images of this split.',
                {p: [f'annotation: {p}: {unknown_class_problem(c)}']
                 for p, c in per_file.items()})
        if message:
            print_log(message, logger='current', level=logging.WARNING)
        return data_list


# FAIR1M-1.0 classes as written in its XML files, grouped as in the FAIR1M paper
# (airplanes, ships, vehicles, courts, roads).
FAIR1M_CLASSES = ('Boeing737', 'Boeing747', 'Boeing777', 'Boeing787', 'C919', 'A220',
                  'A321', 'A330', 'A350', 'ARJ21', 'other-airplane', 'Passenger Ship',
                  'Motorboat', 'Fishing Boat', 'Tugboat', 'Engineering Ship',
                  'Liquid Cargo Ship', 'Dry Cargo Ship', 'Warship', 'other-ship',
                  'Small Car', 'Bus', 'Cargo Truck', 'Dump Truck', 'Van', 'Trailer',
                  'Tractor', 'Excavator', 'Truck Tractor', 'other-vehicle',
                  'Basketball Court', 'Tennis Court', 'Football Field',
                  'Baseball Field', 'Intersection', 'Roundabout', 'Bridge')


def fair1m_dota_name(name: str) -> str:
    """Class name of FAIR1M in DOTA txt files: spaces become ``_``.

    DOTA txt lines are split on whitespace, so ``'Small Car'`` is written
    ``'Small_Car'``. Returns ``None`` for a name that is not a FAIR1M class (compared
    case-insensitively).
    """
    lookup = {_norm(c): c for c in FAIR1M_CLASSES}
    official = lookup.get(_norm(' '.join(name.replace('_', ' ').split())))
    return None if official is None else official.replace(' ', '_')


@DATASETS.register_module()
class FAIR1MDataset(DOTADataset):
    """FAIR1M-1.0 (37 fine-grained classes) in DOTA format, over mmrotate's DOTADataset.

    Official FAIR1M layout (converted by ``tools/dataset_converters/fair1m_to_dota.py``,
    then cut by ``dota_split.py``)::

        FAIR1M/train/part1/images/0.tif ...  FAIR1M/train/part1/labelXml/0.xml ...
        FAIR1M/validation/images/*.tif       FAIR1M/validation/labelXml/*.xml

    Everything is mmrotate's ``DOTADataset``: ``ann_file`` is the folder of DOTA txt
    files of the patches (``annfiles/``), images are ``<id>.png`` in
    ``data_prefix['img_path']``. Class names carry ``_`` for spaces
    (:func:`fair1m_dota_name`), as DOTA txt lines are whitespace-separated.
    """

    METAINFO = dict(
        classes=tuple(c.replace(' ', '_') for c in FAIR1M_CLASSES),
        palette=distinct_palette(len(FAIR1M_CLASSES)))
