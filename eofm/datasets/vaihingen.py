"""ISPRS Vaihingen with its DSM (RGB + DSM semantic segmentation, msGFM Table 3).

ISPRS 2D Semantic Labeling Contest, Vaihingen (Rottensteiner et al., 2012): 33
true-orthophoto tiles of about 2000 x 2500 px at 9 cm, false colour IR-R-G, each
with a DSM on the same grid, labelled with six classes. The archives extract to::

    top/top_mosaic_09cm_area<N>.tif              IRRG, 3 x uint8
    dsm/dsm_09cm_matching_area<N>.tif            heights in metres, float32
    gts_for_participants/top_mosaic_09cm_area<N>.tif          RGB colour-coded
    ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE/
        top_mosaic_09cm_area<N>.tif                            all 33 areas
    ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE/
        top_mosaic_09cm_area<N>_noBoundary.tif                 boundaries black

(``gt_dir`` / ``gt_suffix`` choose the ground truth.) The splits are the contest's
16 training and 17 test areas (also mmsegmentation's train / val). The colour-coded
labels are read as a 3-band modality ``gt_rgb`` (nearest resampling) and turned into
class indices by :class:`RGBLabelToIndex` (black and unknown colours -> 255).

Samples: modalities ``irrg`` (3 bands IR, R, G) and ``dsm`` (1 band), ``gt_rgb``;
with ``tile_size`` each area gives windows of ``tile_size`` px every
``tile_stride`` px (the last row / column shifted to the tile's edge), read through
``LoadMultiModalTiles``' ``window``.
"""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from eofm.structures.batch_schema import mask_key
from .multimodal_dataset import OfficialLayoutDataset
from .raster_sources import open_source

__all__ = [
    'VaihingenRGBDSM', 'RGBLabelToIndex', 'VAIHINGEN_CLASSES', 'VAIHINGEN_PALETTE',
    'VAIHINGEN_SPLITS'
]

VAIHINGEN_CLASSES = ('impervious_surface', 'building', 'low_vegetation', 'tree', 'car',
                     'clutter')
VAIHINGEN_PALETTE = ((255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0),
                     (255, 255, 0), (255, 0, 0))
VAIHINGEN_SPLITS = dict(
    train=(1, 3, 5, 7, 11, 13, 15, 17, 21, 23, 26, 28, 30, 32, 34, 37),
    test=(2, 4, 6, 8, 10, 12, 14, 16, 20, 22, 24, 27, 29, 31, 33, 35, 38))


def _starts(total, size, stride):
    if size >= total:
        return [0]
    starts = list(range(0, total - size + 1, stride))
    if starts[-1] != total - size:
        starts.append(total - size)
    return starts


@DATASETS.register_module()
class VaihingenRGBDSM(OfficialLayoutDataset):
    """ISPRS Vaihingen IRRG + DSM (see the module doc).

    Args:
        split (str): 'train' (16 areas), 'test' (17 areas) or 'all'; ignored when
            ``areas`` is given.
        areas (Sequence[int], optional): Area numbers to read.
        gt_dir (str): Folder of the colour-coded ground truth.
        gt_suffix (str): Suffix of its file names ('' or '_noBoundary').
        tile_size (int, optional): Window size in px; whole areas when None.
        tile_stride (int, optional): Window step (default ``tile_size``).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=VAIHINGEN_CLASSES, palette=VAIHINGEN_PALETTE)
    LAYOUT = ('top/top_mosaic_09cm_area<N>.tif, dsm/dsm_09cm_matching_area<N>.tif '
              'and <gt_dir>/top_mosaic_09cm_area<N><gt_suffix>.tif')

    def __init__(self,
                 split='train',
                 areas=None,
                 gt_dir='ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE',
                 gt_suffix='',
                 tile_size=None,
                 tile_stride=None,
                 **kwargs):
        if areas is None and split not in ('train', 'test', 'all'):
            raise ValueError("VaihingenRGBDSM: split must be 'train', 'test' or 'all', "
                             f'got {split!r}')
        self.split = split
        self.areas = list(areas) if areas is not None else (
            sorted(VAIHINGEN_SPLITS['train'] + VAIHINGEN_SPLITS['test'])
            if split == 'all' else list(VAIHINGEN_SPLITS[split]))
        self.gt_dir, self.gt_suffix = gt_dir, gt_suffix
        self.tile_size = tile_size
        self.tile_stride = tile_stride or tile_size
        super().__init__(**kwargs)

    def _paths(self, n):
        return dict(
            irrg=osp.join('top', f'top_mosaic_09cm_area{n}.tif'),
            dsm=osp.join('dsm', f'dsm_09cm_matching_area{n}.tif'),
            gt_rgb=osp.join(self.gt_dir,
                            f'top_mosaic_09cm_area{n}{self.gt_suffix}.tif'))

    def _windows(self, path):
        if self.tile_size is None:
            return [None]
        info = open_source(dict(path=path), path).info
        size, stride = self.tile_size, self.tile_stride
        w, h = min(size, info.width), min(size, info.height)
        return [(x, y, w, h) for y in _starts(info.height, size, stride)
                for x in _starts(info.width, size, stride)]

    def scan(self):
        raws = []
        for n in self.areas:
            paths = self._paths(n)
            missing = [p for p in paths.values() if not osp.isfile(self.root(p))]
            if len(missing) == len(paths):
                continue  # area not in this copy (e.g. a partial download)
            if missing:
                raise self.layout_error(f'area {n}: missing {missing}')
            for window in self._windows(self.root(paths['irrg'])):
                raw = dict(
                    sample_id=f'area{n}' +
                    ('' if window is None else '_{}_{}'.format(*window[:2])),
                    modalities=dict(
                        irrg=dict(path=paths['irrg'], bands=['IR', 'R', 'G']),
                        dsm=dict(path=paths['dsm'], bands=['DSM']),
                        gt_rgb=dict(path=paths['gt_rgb'], bands=['R', 'G', 'B'])))
                if window is not None:
                    raw['window'] = list(window)
                raws.append(raw)
        return raws


@TRANSFORMS.register_module()
class RGBLabelToIndex(BaseTransform):
    """Colour-coded label modality -> an int64 (H, W) class map.

    Args:
        key (str): The (3, H, W) colour modality (read with ``resample='nearest'``).
        out_key (str): Where the class map goes (``gt_seg_map``).
        palette (Sequence): RGB colour of each class (default: Vaihingen's).
        ignore_index (int): For colours not in the palette (black boundaries).
    """

    def __init__(self,
                 key='gt_rgb',
                 out_key='gt_seg_map',
                 palette=VAIHINGEN_PALETTE,
                 ignore_index=255):
        self.key, self.out_key = key, out_key
        self.palette = [tuple(int(v) for v in c) for c in palette]
        self.ignore_index = ignore_index

    def transform(self, results):
        if self.key not in results:
            raise KeyError(f'RGBLabelToIndex: {self.key!r} was not loaded')
        rgb = np.rint(np.asarray(results.pop(self.key))).astype(np.int64)
        if rgb.ndim != 3 or rgb.shape[0] != 3:
            raise ValueError(f'RGBLabelToIndex: {self.key!r} must be (3, H, W), got '
                             f'{rgb.shape}')
        code = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]
        out = np.full(code.shape, self.ignore_index, np.int64)
        for i, (r, g, b) in enumerate(self.palette):
            out[code == ((r << 16) | (g << 8) | b)] = i
        results[self.out_key] = out
        results.pop(mask_key(self.key), None)
        if 'modalities_present' in results:
            results['modalities_present'] = [
                m for m in results['modalities_present'] if m != self.key
            ]
        return results
