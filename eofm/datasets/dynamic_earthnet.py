"""DynamicEarthNet (Planet, Sentinel-2, Sentinel-1) in its official layout.

DynamicEarthNet (Toker et al., "DynamicEarthNet: Daily Multi-Spectral Satellite
Dataset for Semantic Change Segmentation", CVPR 2022) has 75 areas of 1024 x 1024 px
at 3 m with daily Planet Fusion images (2018-2019), monthly Sentinel-1 and Sentinel-2
composites and monthly land-cover labels of 7 classes. A sample is one area and one
month, as listed in the official split files (``<planet folder> <label file>
<YYYY-MM>`` per line)::

    DynamicEarthNet/
        dynnet_training_splits/{train,val,test}.txt
        planet/10N/27E-187N/1330_3107_13/PF-SR/2018-01-01.tif ...  # daily, 4 bands
                                                # B, G, R, NIR (reflectance x 1e4)
        sentinel2/<area folder>/...2018_01....tif     # monthly composite per area
        sentinel1/<area folder>/...2018_01....tif
        labels/1330_3107_13_10N/Labels/Raster/10N-122W-40N-L3H-SR/
            10N-122W-40N-L3H-SR-2018_01_01.tif  # 7 bands, one per class, 255 = class

The split files write the Planet folders as ``/reprocess-cropped/UTM-24000/...``;
they are looked up under ``planet/``. Sentinel files are matched to a sample by the
area id (``1330_3107_13``) in their path and the last ``YYYY_MM`` / ``YYYY-MM`` of
their name; areas without them have no ``s1`` / ``s2`` modality.

Each sample has the dated modalities ``planet`` (the month's days chosen by
``planet_days``), ``s2`` and ``s1`` (one date, the 1st of the month) and the
one-hot label raster as the modality ``labels`` (7 bands), which
:class:`OneHotToSegMap` turns into ``gt_seg_map`` (class index, 255 where no class
is set). The Planet GeoTIFFs are geo-referenced, so the loader computes ``geo``.
"""
import os
import os.path as osp
import re

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from eofm.structures.batch_schema import mask_key
from .multimodal_dataset import MultiModalDataset

__all__ = ['DynamicEarthNet', 'OneHotToSegMap', 'DYNAMIC_EARTHNET_CLASSES']

DYNAMIC_EARTHNET_CLASSES = ('impervious surface', 'agriculture',
                            'forest & other vegetation', 'wetlands', 'soil', 'water',
                            'snow & ice')

PLANET_BANDS = ('B', 'G', 'R', 'NIR')
# Band order assumed for the monthly Sentinel-2 rasters (12 bands: the L2A bands
# without B10); they carry no band descriptions, so configs select bands by these
# names. Other files: pass ``s2_bands`` / ``s1_bands``.
S2_FILE_BANDS = ('B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11',
                 'B12')

# Days of the month of the official 'weekly' and 'single' settings (dynnet).
PLANET_DAYS = dict(weekly=('01', '05', '10', '15', '20', '25'), single=('01', ))

_AREA = re.compile(r'^(\d+_\d+_\d+)')
_YEAR_MONTH = re.compile(r'(20\d\d)[-_](0[1-9]|1[0-2])')


def _monthly_index(root, folder):
    """(area id, 'YYYY-MM') -> path (relative to ``root``) of the GeoTIFFs in folder."""
    index = {}
    for dirpath, _, files in sorted(os.walk(osp.join(root, folder))):
        rel_dir = osp.relpath(dirpath, root)
        for name in sorted(files):
            areas = [
                m.group(1) for m in map(_AREA.match, [*rel_dir.split(os.sep), name])
                if m
            ]
            months = _YEAR_MONTH.findall(name)
            if name.lower().endswith(('.tif', '.tiff')) and months and areas:
                key = (areas[0], '-'.join(months[-1]))
                index.setdefault(key, osp.join(rel_dir, name))
    return index


@DATASETS.register_module()
class DynamicEarthNet(MultiModalDataset):
    """DynamicEarthNet semantic segmentation samples; see the module doc.

    Args:
        split (str): 'train', 'val' or 'test' (the official split files).
        split_file (str, optional): Split file relative to ``data_root``; defaults
            to ``dynnet_training_splits/{split}.txt`` (or ``split_info/{split}.txt``).
        planet_days (str | Sequence[str]): 'daily' (every image of the month),
            'weekly' (days 01, 05, 10, 15, 20, 25), 'single' (day 01) or a list of
            two-digit days.
        s2_bands (Sequence[str], optional): Names of the Sentinel-2 rasters' bands
            in file order (default :data:`S2_FILE_BANDS`); None leaves them unnamed.
        s1_bands (Sequence[str], optional): The same for the Sentinel-1 rasters
            (unnamed by default; SkySense's Dyna.-MM uses its own VV, VH rasters).
        **kwargs: Other arguments of :class:`MultiModalDataset`.
    """

    METAINFO = dict(classes=DYNAMIC_EARTHNET_CLASSES)

    def __init__(self,
                 split='train',
                 split_file=None,
                 planet_days='weekly',
                 s2_bands=S2_FILE_BANDS,
                 s1_bands=None,
                 **kwargs):
        if isinstance(planet_days, str) and planet_days not in ('daily', *PLANET_DAYS):
            raise ValueError(f"DynamicEarthNet: planet_days must be 'daily', 'weekly', "
                             f"'single' or a list of days, got {planet_days!r}")
        self.split = split
        self.split_file = split_file
        self.planet_days = planet_days
        self.sentinel_bands = dict(s2=s2_bands, s1=s1_bands)
        super().__init__(ann_file='', **kwargs)

    def _split_lines(self):
        candidates = [self.split_file] if self.split_file else [
            f'dynnet_training_splits/{self.split}.txt', f'split_info/{self.split}.txt'
        ]
        paths = [self._abs(c) for c in candidates]
        found = [p for p in paths if osp.isfile(p)]
        if not found:
            raise FileNotFoundError(
                f'DynamicEarthNet: no split file {" or ".join(paths)}; expected the '
                'official dynnet_training_splits/ under data_root')
        path = found[0]
        with open(path) as f:
            lines = [line.split() for line in f if line.strip()]
        for n, fields in enumerate(lines, 1):
            if len(fields) != 3 or not re.fullmatch(r'\d{4}-\d{2}', fields[2]):
                raise ValueError(f'{path}, line {n}: expected "<planet folder> <label '
                                 f'file> <YYYY-MM>", got {" ".join(fields)!r}')
        return path, lines

    def _planet_files(self, folder, year_month, where):
        rel = folder.strip('/').replace('reprocess-cropped/UTM-24000/', 'planet/')
        if not rel.startswith('planet/'):
            rel = 'planet/' + rel
        if not osp.isdir(self._abs(rel)):
            raise FileNotFoundError(f'{where}: Planet folder {self._abs(rel)} does not '
                                    'exist')
        if self.planet_days == 'daily':
            names = sorted(
                n for n in os.listdir(self._abs(rel))
                if n.startswith(year_month) and n.endswith('.tif'))
        else:
            days = PLANET_DAYS.get(self.planet_days, self.planet_days)
            names = [f'{year_month}-{int(d):02d}.tif' for d in days]
        for name in names:
            if not osp.isfile(self._abs(osp.join(rel, name))):
                raise FileNotFoundError(
                    f'{where}: Planet image '
                    f'{self._abs(osp.join(rel, name))} does not exist')
        if not names:
            raise FileNotFoundError(f'{where}: no Planet image of {year_month} in '
                                    f'{self._abs(rel)}')
        return [osp.join(rel, n) for n in names], [n[:10] for n in names]

    def load_data_list(self):
        path, lines = self._split_lines()
        root = self._abs('') or '.'
        sentinel = dict(
            s2=_monthly_index(root, 'sentinel2'), s1=_monthly_index(root, 'sentinel1'))
        if not lines:
            raise ValueError(f'DynamicEarthNet: {path} lists no sample')
        raws = []
        for n, (folder, label, year_month) in enumerate(lines, 1):
            where = f'{path}, line {n}'
            area = re.search(r'\d+_\d+_\d+', folder)
            if area is None:
                raise ValueError(
                    f'{where}: no area id (like 1330_3107_13) in {folder!r}')
            paths, dates = self._planet_files(folder, year_month, where)
            modalities = dict(
                planet=dict(paths=paths, dates=dates, bands=list(PLANET_BANDS)))
            for name, index in sentinel.items():
                found = index.get((area.group(), year_month))
                if found:
                    modalities[name] = dict(path=found, dates=[f'{year_month}-01'])
                    if self.sentinel_bands[name]:
                        modalities[name]['bands'] = list(self.sentinel_bands[name])
            label = label.strip('/')
            if not osp.isfile(self._abs(label)):
                raise FileNotFoundError(f'{where}: label file {self._abs(label)} does '
                                        'not exist')
            modalities['labels'] = dict(path=label)
            raws.append(
                dict(
                    sample_id=f'{area.group()}_{year_month}',
                    year_month=year_month,
                    modalities=modalities))
        return [self.parse_data_info(raw) for raw in raws]


@TRANSFORMS.register_module()
class OneHotToSegMap(BaseTransform):
    """Turn a loaded one-band-per-class label modality into ``gt_seg_map``.

    DynamicEarthNet's label rasters have one band per class (255 where the class
    is present); the loader reads them as the modality ``key`` (use
    ``resample='nearest'``). The map gets the index of the band that is set and
    ``ignore_index`` where none is; the modality is removed from the results.

    Args:
        key (str): The loaded label modality. Defaults to 'labels'.
        ignore_index (int): Value of pixels without a class. Defaults to 255.
    """

    def __init__(self, key='labels', ignore_index=255):
        self.key = key
        self.ignore_index = ignore_index

    def transform(self, results):
        if self.key not in results:
            raise KeyError(f'OneHotToSegMap: {self.key!r} was not loaded; add it to '
                           'the modalities of LoadMultiModalTiles')
        onehot = results.pop(self.key)
        results.pop(mask_key(self.key), None)
        if self.key in results.get('modalities_present', []):
            results['modalities_present'] = [
                m for m in results['modalities_present'] if m != self.key
            ]
        seg = np.argmax(onehot, axis=0).astype(np.int64)
        seg[onehot.max(axis=0) <= 0] = self.ignore_index
        results['gt_seg_map'] = seg
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(key={self.key!r}, '
                f'ignore_index={self.ignore_index})')
