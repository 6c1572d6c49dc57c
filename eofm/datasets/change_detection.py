"""Bi-temporal change detection: OSCD and LEVIR-CD in their official layouts.

Every sample has two static modalities, ``pre`` and ``post``, their acquisition
dates as ``pre_dates`` / ``post_dates`` (one ISO date each, copied into the data
sample's metainfo by the packer, as for dated modalities) when the dataset publishes
them, and the label map ``gt_change_map`` (0 no change, 1 change after
``RemapLabelMap(key='gt_change_map', binary=True)``), packed by
:class:`PackMultiModalInputs`.

OSCD (Daudt et al., "Urban Change Detection for Multispectral Earth Observation Using
Convolutional Neural Networks", IGARSS 2018): 24 city pairs of Sentinel-2 L1C images
(13 bands, one GeoTIFF per band at 10/20/60 m) with 10 m change masks::

    Onera Satellite Change Detection dataset - Images/
        train.txt, test.txt                     comma-separated city names
        <city>/dates.txt                        "date_1: YYYYMMDD", "date_2: YYYYMMDD"
        <city>/imgs_1/..._B01.tif ... _B12.tif, _B8A.tif    (imgs_1_rect: all at 10 m)
        <city>/imgs_2/...
    Onera Satellite Change Detection dataset - Train Labels/<city>/cm/cm.png  (0/255)
    Onera Satellite Change Detection dataset - Test Labels/<city>/cm/cm.png

``mode='patches'`` reads the output of ``tools/dataset_converters/oscd.py``
(:func:`patch_layout`): ``<split>.txt``, ``<city>/dates.txt``,
``<city>/{pre,post}/<city>_<row>_<col>.tif`` (13 bands) and
``<city>/cm/<city>_<row>_<col>.png``.

LEVIR-CD (Chen and Shi, "A Spatial-Temporal Attention-Based Method and a New Dataset
for Remote Sensing Image Change Detection", Remote Sensing 2020): 637 pairs of
1024 x 1024 px RGB Google Earth images at 0.5 m (2002-2018, dates not published),
binary building-change masks (0/255)::

    train/A/train_1.png, train/B/train_1.png, train/label/train_1.png
    val/..., test/...
"""
import glob
import os.path as osp

from eofm.registry import DATASETS
from .geo_io import parse_date
from .multimodal_dataset import S2_BANDS, OfficialLayoutDataset

__all__ = ['OSCD', 'LEVIRCD']

OSCD_DIRS = dict(
    images='Onera Satellite Change Detection dataset - Images',
    train='Onera Satellite Change Detection dataset - Train Labels',
    test='Onera Satellite Change Detection dataset - Test Labels')


def read_city_list(path):
    """City names of an OSCD ``train.txt`` / ``test.txt`` (comma or line separated)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'OSCD: city list "{path}" does not exist')
    with open(path, encoding='utf-8') as f:
        return [c.strip() for c in f.read().replace('\n', ',').split(',') if c.strip()]


def read_oscd_dates(path):
    """(pre, post) ISO dates of an OSCD ``dates.txt`` ("date_1: 20161015" lines)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'OSCD: dates file "{path}" does not exist')
    with open(path, encoding='utf-8') as f:
        values = [line.split(':')[-1].strip() for line in f if line.strip()]
    if len(values) < 2:
        raise ValueError(f'{path}: expected two lines "date_1: YYYYMMDD" and '
                         f'"date_2: YYYYMMDD", got {len(values)}')
    return tuple(parse_date(v, path).isoformat() for v in values[:2])


def oscd_band_files(folder, bands=S2_BANDS):
    """The file of each band in an OSCD image folder (names end in ``<band>.tif``)."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'OSCD: image folder "{folder}" does not exist')
    files = sorted(glob.glob(osp.join(folder, '*.tif')))
    found = []
    for band in bands:
        match = [f for f in files if osp.basename(f).upper().endswith(band + '.TIF')]
        if len(match) != 1:
            raise FileNotFoundError(f'OSCD: "{folder}" must hold one file ending in '
                                    f'{band}.tif, found {len(match)}')
        found.append(match[0])
    return found


def patch_layout(city, row, col):
    """Relative paths (pre, post, change map) of one converted OSCD patch."""
    name = f'{city}_{row}_{col}'
    return (osp.join(city, 'pre', name + '.tif'), osp.join(city, 'post', name + '.tif'),
            osp.join(city, 'cm', name + '.png'))


@DATASETS.register_module()
class OSCD(OfficialLayoutDataset):
    """OSCD, Sentinel-2 urban change detection (see the module doc).

    Args:
        split (str): 'train' or 'test'.
        mode (str): 'cities' (one sample per city, the official layout) or
            'patches' (the converter's output).
        image_folders (tuple[str]): The pre/post image folders of a city
            (``('imgs_1_rect', 'imgs_2_rect')`` for the 10 m resampled copies).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=('no change', 'change'))
    LAYOUT = (f'"{OSCD_DIRS["images"]}/<split>.txt", <city>/dates.txt, '
              f'<city>/imgs_1|imgs_2/*_B01.tif ... *_B8A.tif and '
              f'"{OSCD_DIRS["train"]}|{OSCD_DIRS["test"]}/<city>/cm/cm.png" '
              "(mode='cities'), or the converter's output (mode='patches')")

    def __init__(self,
                 split='train',
                 mode='cities',
                 image_folders=('imgs_1', 'imgs_2'),
                 **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f"OSCD: split must be 'train' or 'test', got {split!r}")
        if mode not in ('cities', 'patches'):
            raise ValueError(f"OSCD: mode must be 'cities' or 'patches', got {mode!r}")
        self.split, self.mode = split, mode
        self.image_folders = tuple(image_folders)
        super().__init__(**kwargs)

    @staticmethod
    def _pair(sample_id, pre, post, change, dates, **mod_kwargs):
        return dict(
            sample_id=sample_id,
            modalities=dict(pre=dict(mod_kwargs, **pre), post=dict(mod_kwargs, **post)),
            pre_dates=[dates[0]],
            post_dates=[dates[1]],
            label_maps=dict(gt_change_map=dict(path=change)))

    def _city(self, city):
        img_root = self.root(OSCD_DIRS['images'])
        dates = read_oscd_dates(osp.join(img_root, city, 'dates.txt'))
        pre, post = (
            oscd_band_files(osp.join(img_root, city, f)) for f in self.image_folders)
        change = self.root(OSCD_DIRS[self.split], city, 'cm', 'cm.png')
        if not osp.isfile(change):
            raise self.layout_error(f'change map "{change}" does not exist')
        return self._pair(
            city,
            dict(band_paths=pre),
            dict(band_paths=post),
            change,
            dates,
            bands=list(S2_BANDS))

    def _patches(self, city):
        dates = read_oscd_dates(self.root(city, 'dates.txt'))
        raws = []
        for path in sorted(glob.glob(self.root(city, 'pre', f'{city}_*_*.tif'))):
            row, col = osp.basename(path)[len(city) + 1:-4].split('_')
            pre, post, change = patch_layout(city, row, col)
            raws.append(
                self._pair(
                    f'{city}_{row}_{col}',
                    dict(path=pre),
                    dict(path=post),
                    change,
                    dates,
                    bands=list(S2_BANDS)))
        if not raws:
            raise self.layout_error(f'no patches in "{self.root(city, "pre")}"')
        return raws

    def scan(self):
        if self.mode == 'cities':
            self.require_dir(OSCD_DIRS['images'], 'image')
            cities = read_city_list(self.root(OSCD_DIRS['images'], self.split + '.txt'))
            return [self._city(c) for c in cities]
        cities = read_city_list(self.root(self.split + '.txt'))
        return [raw for c in cities for raw in self._patches(c)]


@DATASETS.register_module()
class LEVIRCD(OfficialLayoutDataset):
    """LEVIR-CD, building change detection in RGB image pairs (see the module doc).

    Args:
        split (str): 'train', 'val' or 'test'.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=('no change', 'change'))
    LAYOUT = '<split>/A/<name>.png, <split>/B/<name>.png and <split>/label/<name>.png'

    def __init__(self, split='train', **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"LEVIRCD: split must be 'train', 'val' or 'test', got "
                             f'{split!r}')
        self.split = split
        super().__init__(**kwargs)

    def scan(self):
        folder = self.require_dir(osp.join(self.split, 'A'), 'pre-change image')
        raws = []
        for path in sorted(glob.glob(osp.join(folder, '*.png'))):
            name = osp.basename(path)
            rel = {k: osp.join(self.split, k, name) for k in ('A', 'B', 'label')}
            for key in ('B', 'label'):
                if not osp.isfile(self.root(rel[key])):
                    raise self.layout_error(f'"{self.root(rel[key])}" (the {key} file '
                                            f'of {name}) does not exist')
            raws.append(
                dict(
                    sample_id=name[:-4],
                    modalities=dict(pre=dict(path=rel['A']), post=dict(path=rel['B'])),
                    label_maps=dict(gt_change_map=dict(path=rel['label']))))
        return raws
