"""TreeSatAI and TreeSatAI-TS in their official layouts.

TreeSatAI (Ahlswede et al., "TreeSatAI Benchmark Archive: a multi-sensor, multi-label
dataset for tree species classification in remote sensing", ESSD 2023) has 50,381
patches of 60 m in Lower Saxony: colour-infrared aerial GeoTIFFs at 0.2 m (304 x 304
px, 8-bit NIR, G, B, R), single Sentinel-1 / Sentinel-2 GeoTIFFs, genus proportions
per patch (15 genera, multi-label) and the species in the file name (20 species,
``genus_species_ageclass_id_dataset_source.tif``), with a fixed train / test split.
TreeSatAI-TS (Astruc et al., "OmniSat", ECCV 2024) adds one HDF5 file per patch with
the year's Sentinel-2 and Sentinel-1 series (6 x 6 px at 10 m) and a validation
split::

    TreeSatAI/
        aerial/60m/<tile>.tif
        s1/60m/<tile>.tif                    (VV, VH, VV/VH)
        s2/60m/<tile>.tif                    (12 bands)
        labels/TreeSatBA_v9_60m_multi_labels.json
        train_filenames.lst, test_filenames.lst
    TreeSatAI-TS/
        aerial/<tile>.tif
        sentinel-ts/<tile stem>_<year>.h5
        labels/TreeSatBA_v9_60m_multi_labels.json
        train_filenames.lst, val_filenames.lst, test_filenames.lst

The labels JSON maps each tile to ``[[genus, proportion], ...]``; a genus is in the
multi-hot label when its proportion exceeds ``label_threshold`` (0.07, as OmniSat),
and tiles with no such genus are left out. The HDF5 files hold ``sen-2-data`` (T, 10,
6, 6), ``sen-2-masks`` (T, 2, 6, 6: snow and cloud probability), ``sen-2-products``
(product names, the date starts the 3rd ``_`` field), ``sen-1-asc-data`` /
``sen-1-des-data`` (T, 2, 6, 6: VV, VH) and ``sen-1-{asc,des}-products`` (the date
is the first 8 characters of the 5th ``_`` field).

Samples contain ``aerial`` (geo-referenced, so the loader computes ``geo``), for
TreeSatAI ``s1`` and ``s2`` (single dates, where the files exist) and for
TreeSatAI-TS the series ``s2``, ``s2_cloud``, ``s1_asc`` and ``s1_des`` (read on the
aerial footprint as co-registered patches), plus ``gt_labels`` (15-genus multi-hot),
``label_proportions`` and ``gt_label`` (species index, ``metainfo['species']``).
"""
import json
import os
import os.path as osp
import re

from eofm.registry import DATASETS
from .geo_io import parse_date
from .multimodal_dataset import MultiModalDataset

__all__ = ['TreeSatAI', 'TreeSatAITS', 'TREESATAI_GENERA', 'TREESATAI_SPECIES']

TREESATAI_GENERA = ('Abies', 'Acer', 'Alnus', 'Betula', 'Cleared', 'Fagus', 'Fraxinus',
                    'Larix', 'Picea', 'Pinus', 'Populus', 'Prunus', 'Pseudotsuga',
                    'Quercus', 'Tilia')

TREESATAI_SPECIES = ('Abies_alba', 'Acer_pseudoplatanus', 'Alnus_spec', 'Betula_spec',
                     'Cleared', 'Fagus_sylvatica', 'Fraxinus_excelsior',
                     'Larix_decidua', 'Larix_kaempferi', 'Picea_abies', 'Pinus_nigra',
                     'Pinus_strobus', 'Pinus_sylvestris', 'Populus_spec', 'Prunus_spec',
                     'Pseudotsuga_menziesii', 'Quercus_petraea', 'Quercus_robur',
                     'Quercus_rubra', 'Tilia_spec')

LABEL_FILE = 'labels/TreeSatBA_v9_60m_multi_labels.json'

AERIAL_BANDS = ('NIR', 'G', 'B', 'R')

# Single-date Sentinel GeoTIFFs of TreeSatAI: modality -> (folder, bands).
SENTINEL_60M = dict(
    s1=('s1/60m', ('VV', 'VH', 'VV/VH')),
    s2=('s2/60m', ('B2', 'B3', 'B4', 'B8', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12', 'B1',
                   'B9')))

# TreeSatAI-TS series: modality -> (data key, products key, date field, bands).
TS_SERIES = dict(
    s2=('sen-2-data', 'sen-2-products', 2, ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8',
                                            'B8A', 'B11', 'B12')),
    s2_cloud=('sen-2-masks', 'sen-2-products', 2, ('snow_prob', 'cloud_prob')),
    s1_asc=('sen-1-asc-data', 'sen-1-asc-products', 4, ('VV', 'VH')),
    s1_des=('sen-1-des-data', 'sen-1-des-products', 4, ('VV', 'VH')))


def _species_key(name):
    return name.replace('.', '').lower()


@DATASETS.register_module()
class TreeSatAI(MultiModalDataset):
    """TreeSatAI multi-label tree genus classification; see the module doc.

    Args:
        split (str): 'train' or 'test' ('val' for TreeSatAI-TS).
        label_threshold (float): A genus is a label when its proportion of the tile
            exceeds this. Defaults to 0.07.
        split_file (str, optional): Tile list relative to ``data_root``; defaults to
            ``{split}_filenames.lst`` (or ``split/{split}_filenames.lst``).
        with_species (bool): Set ``gt_label`` from the species in the file name.
        **kwargs: Other arguments of :class:`MultiModalDataset`.
    """

    METAINFO = dict(classes=TREESATAI_GENERA, species=TREESATAI_SPECIES)
    LABEL_CLASSES = dict(gt_label='species')

    def __init__(self,
                 split='train',
                 label_threshold=0.07,
                 split_file=None,
                 with_species=True,
                 **kwargs):
        self.split = split
        self.label_threshold = label_threshold
        self.split_file = split_file
        self.with_species = with_species
        super().__init__(ann_file='', **kwargs)

    def _find(self, candidates, what):
        """The first of ``candidates`` (relative paths) that exists."""
        for rel in candidates:
            if osp.exists(self._abs(rel)):
                return rel
        raise FileNotFoundError(f'{type(self).__name__}: no {what} at '
                                f'{" or ".join(self._abs(c) for c in candidates)}')

    def _read_inputs(self):
        split_file = self._find(
            [self.split_file] if self.split_file else
            [f'{self.split}_filenames.lst', f'split/{self.split}_filenames.lst'],
            f'{self.split} split file')
        with open(self._abs(split_file)) as f:
            tiles = [line.strip() for line in f if line.strip()]
        label_file = self._find([LABEL_FILE, osp.basename(LABEL_FILE)], 'labels JSON')
        with open(self._abs(label_file)) as f:
            labels = json.load(f)
        return tiles, labels, self._abs(label_file)

    def _labels(self, tile, entries, where):
        proportions = [0.0] * len(TREESATAI_GENERA)
        for genus, proportion in entries:
            if genus not in TREESATAI_GENERA:
                raise ValueError(f'{where}: unknown genus {genus!r} for {tile}; '
                                 f'expected one of {TREESATAI_GENERA}')
            proportions[TREESATAI_GENERA.index(genus)] = float(proportion)
        labels = dict(
            gt_labels=[int(p > self.label_threshold) for p in proportions],
            label_proportions=proportions)
        if self.with_species:
            species = _species_key('_'.join(osp.splitext(tile)[0].split('_')[:-4]))
            keys = [_species_key(s) for s in TREESATAI_SPECIES]
            if species not in keys:
                raise ValueError(f'{tile}: cannot read the species from the file name '
                                 '(expected genus_species_ageclass_id_dataset_source'
                                 '.tif); set with_species=False to skip species labels')
            labels['gt_label'] = keys.index(species)
        return labels

    def _modalities(self, tile):
        """Modalities of a tile besides ``aerial``: TreeSatAI's 60 m Sentinel files."""
        out = {}
        for name, (folder, bands) in SENTINEL_60M.items():
            rel = osp.join(folder, tile)
            if osp.isfile(self._abs(rel)):
                out[name] = dict(path=rel, bands=list(bands))
        return out

    def load_data_list(self):
        tiles, labels, label_file = self._read_inputs()
        aerial_dir = self._find(['aerial/60m', 'aerial'], 'aerial folder')
        raws = []
        for tile in tiles:
            if tile not in labels:
                raise KeyError(f'{label_file}: no labels for tile {tile}')
            sample = self._labels(tile, labels[tile], label_file)
            if not any(sample['gt_labels']):
                continue  # no genus above the threshold (left out, as OmniSat)
            aerial = osp.join(aerial_dir, tile)
            if not osp.isfile(self._abs(aerial)):
                raise FileNotFoundError(f'{type(self).__name__}: aerial image '
                                        f'{self._abs(aerial)} does not exist')
            modalities = dict(
                aerial=dict(path=aerial, bands=list(AERIAL_BANDS)),
                **self._modalities(tile))
            raws.append(
                dict(sample_id=osp.splitext(tile)[0], modalities=modalities, **sample))
        if not raws:
            raise ValueError(
                f'{type(self).__name__}: no tile of the {self.split} split '
                f'has a genus above label_threshold={self.label_threshold}')
        return [self.parse_data_info(raw) for raw in raws]


@DATASETS.register_module()
class TreeSatAITS(TreeSatAI):
    """TreeSatAI-TS: aerial images and yearly Sentinel series; see the module doc.

    Reading the product names (dates) opens every HDF5 file once when the dataset is
    built.

    Args:
        series_dir (str): Folder of the HDF5 files. Defaults to 'sentinel-ts'.
        **kwargs: Arguments of :class:`TreeSatAI`.
    """

    def __init__(self, series_dir='sentinel-ts', **kwargs):
        self.series_dir = series_dir
        self._h5_files = None
        super().__init__(**kwargs)

    def _h5_file(self, stem):
        if self._h5_files is None:
            folder = self._find([self.series_dir], 'HDF5 series folder')
            # <tile stem>_<year>.h5 in the release, <tile stem>.h5 in older copies.
            self._h5_files = {
                re.sub(r'_\d{4}$', '',
                       osp.splitext(n)[0]): osp.join(folder, n)
                for n in sorted(os.listdir(self._abs(folder))) if n.endswith('.h5')
            }
        if stem not in self._h5_files:
            raise FileNotFoundError(
                f'TreeSatAITS: no HDF5 series {self._abs(self.series_dir)}/{stem}'
                '_<year>.h5')
        return self._h5_files[stem]

    def _modalities(self, tile):
        import h5py
        rel = self._h5_file(osp.splitext(tile)[0])
        out = {}
        with h5py.File(self._abs(rel), 'r') as f:
            for name, (key, products, field, bands) in TS_SERIES.items():
                if key not in f or products not in f or not len(f[products]):
                    continue
                dates = []
                for p in f[products][()]:
                    p = p.decode() if isinstance(p, bytes) else str(p)
                    parts = p.split('_')
                    where = f'{self._abs(rel)}: {products} {p!r}'
                    if len(parts) <= field:
                        raise ValueError(f'{where} has no date in field {field + 1}')
                    dates.append(parse_date(parts[field][:8], where).isoformat())
                out[name] = dict(
                    path=rel, format='h5', key=key, dates=dates, bands=list(bands))
        return out
