"""Scene classification benchmarks (AID, NWPU-RESISC45) over mmpretrain's CustomDataset.

Official layouts, one folder per class (the archives extract to ``AID/`` and
``NWPU-RESISC45/``)::

    AID/Airport/airport_1.jpg ...              (30 classes, 600 x 600 px)
    NWPU-RESISC45/airplane/airplane_001.jpg ...  (45 classes, 256 x 256 px)

Everything is mmpretrain's :class:`~mmpretrain.datasets.CustomDataset`: with an
``ann_file`` (``<path relative to the image folder> <label>`` per line, as written by
``tools/dataset_converters/scene_splits.py``) it reads the split list, without one it
takes every image of the class folders. The one addition: folders are matched to the
class list by name (case, ``_``, ``-`` and spaces ignored) instead of by their sorted
position, and a missing or unknown class folder is an error naming it.
"""
from mmengine.fileio import get_file_backend
from mmpretrain.datasets import CustomDataset
from mmpretrain.datasets.custom import get_samples

from eofm.registry import DATASETS

__all__ = ['AID', 'NWPURESISC45', 'AID_CLASSES', 'NWPU_RESISC45_CLASSES']

# Folder names of the official archives (sorted, so that labels equal the indices
# mmpretrain would give the folders).
AID_CLASSES = ('Airport', 'BareLand', 'BaseballField', 'Beach', 'Bridge', 'Center',
               'Church', 'Commercial', 'DenseResidential', 'Desert', 'Farmland',
               'Forest', 'Industrial', 'Meadow', 'MediumResidential', 'Mountain',
               'Park', 'Parking', 'Playground', 'Pond', 'Port', 'RailwayStation',
               'Resort', 'River', 'School', 'SparseResidential', 'Square', 'Stadium',
               'StorageTanks', 'Viaduct')

NWPU_RESISC45_CLASSES = ('airplane', 'airport', 'baseball_diamond', 'basketball_court',
                         'beach', 'bridge', 'chaparral', 'church', 'circular_farmland',
                         'cloud', 'commercial_area', 'dense_residential', 'desert',
                         'forest', 'freeway', 'golf_course', 'ground_track_field',
                         'harbor', 'industrial_area', 'intersection', 'island', 'lake',
                         'meadow', 'medium_residential', 'mobile_home_park', 'mountain',
                         'overpass', 'palace', 'parking_lot', 'railway',
                         'railway_station', 'rectangular_farmland', 'river',
                         'roundabout', 'runway', 'sea_ice', 'ship', 'snowberg',
                         'sparse_residential', 'stadium', 'storage_tank',
                         'tennis_court', 'terrace', 'thermal_power_station', 'wetland')


def class_key(name: str) -> str:
    """Spelling-insensitive key of a class or folder name (``Dense Residential``)."""
    return ''.join(ch for ch in name.lower() if ch not in ' _-')


class _FolderPerClassDataset(CustomDataset):
    """``CustomDataset`` whose class folders are matched to ``METAINFO`` by name."""

    def _find_samples(self):
        # mmpretrain numbers the folders in sorted order and only checks their count,
        # so a misspelt or missing folder would silently shift the labels.
        if not self.with_label:
            return super()._find_samples()
        name = type(self).__name__
        root = self.img_prefix
        backend = get_file_backend(root, enable_singleton=True)
        if not backend.isdir(root):
            raise FileNotFoundError(
                f'{name}: image folder "{root}" does not exist; expected one folder '
                f'per class there (e.g. "{root}/{self.CLASSES[0]}/").')
        folders = sorted(backend.list_dir_or_file(root, list_dir=True, list_file=False))
        index = {class_key(c): i for i, c in enumerate(self.CLASSES)}
        unknown = [f for f in folders if class_key(f) not in index]
        found = {class_key(f) for f in folders}
        missing = [c for c in self.CLASSES if class_key(c) not in found]
        if unknown or missing:
            raise FileNotFoundError(
                f'{name}: the class folders under "{root}" do not match the '
                f'{len(self.CLASSES)} classes: unknown folders {unknown[:5]}, '
                f'missing classes {missing[:5]}'
                f'{" ..." if len(unknown) > 5 or len(missing) > 5 else ""}.')
        folder_to_idx = {f: index[class_key(f)] for f in folders}
        samples, _ = get_samples(root, folder_to_idx, self.is_valid_file, backend)
        if not samples:
            raise FileNotFoundError(
                f'{name}: no image with an extension in {sorted(self.extensions)} in '
                f'the class folders under "{root}".')
        self.folder_to_idx = folder_to_idx
        return samples


@DATASETS.register_module()
class AID(_FolderPerClassDataset):
    """AID (Xia et al., 2017): 10,000 aerial scenes, 30 classes, folder per class.

    ``data_prefix`` is the ``AID/`` folder; ``ann_file`` optional (see module doc).
    Usual protocols: 20 % or 50 % of each class for training, the rest for testing.
    """

    METAINFO = dict(classes=AID_CLASSES)


@DATASETS.register_module()
class NWPURESISC45(_FolderPerClassDataset):
    """NWPU-RESISC45 (Cheng et al., 2017): 31,500 scenes, 45 classes x 700 images.

    ``data_prefix`` is the ``NWPU-RESISC45/`` folder; ``ann_file`` optional (see
    module doc). Usual protocols: 10 % or 20 % of each class for training.
    """

    METAINFO = dict(classes=NWPU_RESISC45_CLASSES)
