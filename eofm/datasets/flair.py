"""FLAIR-1 (aerial) and FLAIR-2 (aerial + Sentinel-2 time series) in their layouts.

FLAIR (Garioud et al., "FLAIR: French Land cover from Aerospace ImageRy", NeurIPS
Datasets and Benchmarks 2023; FLAIR #2, arXiv:2310.13336): 512 x 512 px aerial
patches at 0.2 m (R, G, B, NIR, elevation; uint8 GeoTIFFs) with 19-class land-cover
masks, grouped by domain (département_year) and zone. The archives extract to::

    flair_aerial_train/D004_2021/Z1_NN/img/IMG_000001.tif
    flair_labels_train/D004_2021/Z1_NN/msk/MSK_000001.tif
    flair_sen_train/D004_2021/Z1_NN/sen/
        SEN2_sp_D004_2021-Z1_NN_data.npy      (T, 10, H, W)
        SEN2_sp_D004_2021-Z1_NN_masks.npy     (T, 2, H, W)
        SEN2_sp_D004_2021-Z1_NN_products.txt  (T lines)
    flair-2_centroids_sp_to_patch.json        {"IMG_000001.tif": [row, col], ...}

(test: ``flair_2_aerial_test``, ``flair_2_labels_test``, ``flair_2_sen_test``). The
Sentinel-2 super-area of a zone covers all its aerial patches; the centroid JSON
gives each patch's centre pixel in it, around which a ``size`` x ``size`` px
super-patch is cut (40 px in the FLAIR-2 baseline). ``_products.txt`` names the
Sentinel-2 product of each date (``S2A_MSIL2A_20210114T...``); ``_masks.npy`` holds
cloud and snow probabilities (0-100).

Labels: the benchmark's 13 classes are the mask values 1-12 and "other" for 13-19
(:data:`FLAIR_LUT` -> 0-12). Modalities ``aerial`` (5 bands R, G, B, NIR, DEM) and,
for FLAIR-2, ``s2`` (T, 10, size, size) read by :class:`LoadFLAIR2Sentinel`; label
``gt_seg_map``.

This module also holds :class:`RemapLabelMap`, used by every benchmark whose label
values are not the training indices.
"""
import glob
import json
import os.path as osp
import re

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from eofm.structures.batch_schema import dates_key, doy_key, mask_key
from .multimodal_dataset import OfficialLayoutDataset
from .geo_io import RasterReadError, day_of_year, parse_date
from .raster_sources import ArraySource
from .transforms.loading import SENSOR_SCALINGS

__all__ = ['FLAIR', 'FLAIR2', 'LoadFLAIR2Sentinel', 'RemapLabelMap', 'FLAIR_CLASSES']


@TRANSFORMS.register_module()
class RemapLabelMap(BaseTransform):
    """Map the values of a label raster (``results[key]``) to training indices.

    Args:
        key (str): 'gt_seg_map' or 'gt_change_map'.
        lut (Sequence[int], optional): New value of each old value 0..len(lut)-1.
        default (int, optional): New value of values outside ``lut`` (required
            with ``lut``; e.g. 255 to ignore them).
        binary (bool): Instead of a table, map every value > 0 to 1 (change maps
            stored as 0/255).
    """

    def __init__(self, key='gt_seg_map', lut=None, default=None, binary=False):
        if (lut is None) == (not binary):
            raise ValueError('RemapLabelMap: give either `lut` or `binary=True`')
        if lut is not None and default is None:
            raise ValueError('RemapLabelMap: `default` (the value of labels outside '
                             '`lut`) is required with `lut`')
        self.key = key
        self.lut = None if lut is None else np.asarray(lut, dtype=np.int64)
        self.default = default
        self.binary = binary

    def transform(self, results):
        if self.key not in results:
            raise KeyError(f'RemapLabelMap: {self.key!r} is not loaded (load it with '
                           "LoadMultiModalTiles' label_maps first)")
        values = np.asarray(results[self.key]).astype(np.int64)
        if self.binary:
            results[self.key] = (values > 0).astype(np.int64)
        else:
            inside = (values >= 0) & (values < len(self.lut))
            table = self.lut[np.clip(values, 0, len(self.lut) - 1)]
            results[self.key] = np.where(inside, table, self.default)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(key={self.key!r}, binary={self.binary})'


FLAIR_CLASSES = ('building', 'pervious surface', 'impervious surface', 'bare soil',
                 'water', 'coniferous', 'deciduous', 'brushwood', 'vineyard',
                 'herbaceous vegetation', 'agricultural land', 'plowed land', 'other')
# Mask value -> class index: 1-12 -> 0-11; 13-19 (swimming pool, snow, clear cut,
# mixed, ligneous, greenhouse, other) and anything else -> 12 ("other").
FLAIR_LUT = (12, ) + tuple(range(12))
FLAIR_AERIAL_BANDS = ('R', 'G', 'B', 'NIR', 'DEM')
FLAIR2_S2_BANDS = ('B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12')


@DATASETS.register_module()
class FLAIR(OfficialLayoutDataset):
    """FLAIR-1: aerial patches and 13-class masks (see the module doc).

    Args:
        split (str): 'train' or 'test': picks the default folders below.
        img_dir (str, optional): Aerial folder (``flair_aerial_train`` /
            ``flair_2_aerial_test``).
        label_dir (str, optional): Mask folder (``flair_labels_train`` /
            ``flair_2_labels_test``).
        domains (Sequence[str], optional): Domain folders to keep (e.g.
            ``['D004_2021']``; FLAIR splits train/val by domain); all when None.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=FLAIR_CLASSES)
    DIRS = dict(
        train=('flair_aerial_train', 'flair_labels_train', 'flair_sen_train'),
        test=('flair_2_aerial_test', 'flair_2_labels_test', 'flair_2_sen_test'))
    LAYOUT = ('<img_dir>/<domain>/<zone>/img/IMG_<id>.tif and '
              '<label_dir>/<domain>/<zone>/msk/MSK_<id>.tif')

    def __init__(self,
                 split='train',
                 img_dir=None,
                 label_dir=None,
                 domains=None,
                 **kwargs):
        if split not in self.DIRS:
            raise ValueError(f'{type(self).__name__}: split must be one of '
                             f'{sorted(self.DIRS)}, got {split!r}')
        self.split = split
        self.img_dir = img_dir or self.DIRS[split][0]
        self.label_dir = label_dir or self.DIRS[split][1]
        self.domains = None if domains is None else set(domains)
        super().__init__(**kwargs)

    def _patches(self):
        """[(domain, zone, image file name)] of the aerial folder."""
        root = self.require_dir(self.img_dir, 'aerial image')
        found = []
        for path in sorted(glob.glob(osp.join(root, '*', '*', 'img', 'IMG_*.tif'))):
            domain, zone = path.split(osp.sep)[-4:-2]
            if self.domains is None or domain in self.domains:
                found.append((domain, zone, osp.basename(path)))
        return found

    def _sample(self, domain, zone, name):
        mask = osp.join(self.label_dir, domain, zone, 'msk', 'MSK_' + name[4:])
        if not osp.isfile(self.root(mask)):
            raise self.layout_error(f'mask "{self.root(mask)}" of aerial patch {name} '
                                    'does not exist')
        return dict(
            sample_id=f'{domain}/{zone}/{name[:-4]}',
            domain=domain,
            modalities=dict(
                aerial=dict(
                    path=osp.join(self.img_dir, domain, zone, 'img', name),
                    bands=list(FLAIR_AERIAL_BANDS))),
            label_maps=dict(gt_seg_map=dict(path=mask)))

    def scan(self):
        return [self._sample(*patch) for patch in self._patches()]


@DATASETS.register_module()
class FLAIR2(FLAIR):
    """FLAIR-2: FLAIR-1 plus each zone's Sentinel-2 super-area time series (``s2``).

    The ``s2`` modality description carries the super-area ``.npy`` (``path``), its
    dates (from ``_products.txt``), the patch ``centroid`` (row, col) and the
    cloud/snow ``masks_path``; :class:`LoadFLAIR2Sentinel` cuts the super-patch.

    Args:
        sen_dir (str, optional): Sentinel-2 folder (``flair_sen_train`` /
            ``flair_2_sen_test``).
        centroids_file (str): The centroid JSON, relative to ``data_root``.
        **kwargs: :class:`FLAIR` arguments.
    """

    LAYOUT = FLAIR.LAYOUT + (', <sen_dir>/<domain>/<zone>/sen/SEN2_sp_*_data.npy, '
                             '_masks.npy, _products.txt and '
                             'flair-2_centroids_sp_to_patch.json')

    def __init__(self,
                 split='train',
                 sen_dir=None,
                 centroids_file='flair-2_centroids_sp_to_patch.json',
                 **kwargs):
        self.sen_dir = sen_dir or self.DIRS[split][2]
        self.centroids_file = centroids_file
        super().__init__(split=split, **kwargs)

    def _super_area(self, domain, zone):
        """(data .npy, masks .npy, ISO dates) of a zone."""
        folder = osp.join(self.sen_dir, domain, zone, 'sen')
        found = sorted(glob.glob(osp.join(self.root(folder), 'SEN2_*_data.npy')))
        if len(found) != 1:
            raise self.layout_error(f'"{self.root(folder)}" must hold one '
                                    f'SEN2_*_data.npy, found {len(found)}')
        data = osp.join(folder, osp.basename(found[0]))
        products = self.root(data[:-len('_data.npy')] + '_products.txt')
        if not osp.isfile(products):
            raise self.layout_error(f'product list "{products}" does not exist')
        dates = []
        with open(products, encoding='utf-8') as f:
            for i, line in enumerate(l.strip() for l in f):
                if not line:
                    continue
                m = re.search(r'_(\d{8})T', line)
                if m is None:
                    raise ValueError(f'{products}: line {i + 1}: no acquisition date '
                                     f'(_YYYYMMDDT) in product name {line!r}')
                dates.append(parse_date(m.group(1), products).isoformat())
        return data, data[:-len('_data.npy')] + '_masks.npy', dates

    def scan(self):
        path = self.root(self.centroids_file)
        if not osp.isfile(path):
            raise self.layout_error(f'centroid file "{path}" does not exist')
        with open(path, encoding='utf-8') as f:
            centroids = json.load(f)
        areas = {}
        raws = []
        for domain, zone, name in self._patches():
            if name not in centroids:
                raise ValueError(f'{path}: no centroid for aerial patch {name}')
            if (domain, zone) not in areas:
                areas[domain, zone] = self._super_area(domain, zone)
            data, masks, dates = areas[domain, zone]
            raw = self._sample(domain, zone, name)
            raw['modalities']['s2'] = dict(
                path=data,
                format='npy',
                dates=dates,
                bands=list(FLAIR2_S2_BANDS),
                centroid=[int(v) for v in centroids[name]],
                masks_path=self.root(masks))
            raws.append(raw)
        return raws


@TRANSFORMS.register_module()
class LoadFLAIR2Sentinel(BaseTransform):
    """Cut the Sentinel-2 super-patch of a FLAIR-2 sample from its zone's super-area.

    :class:`LoadMultiModalTiles` reads co-registered arrays by the same fraction as
    the reference patch; a FLAIR-2 super-area is larger than the aerial patch and
    shared by a whole zone, so this transform reads the ``size`` x ``size`` px
    window centred on the patch's centroid instead (only that window is read from
    the memory-mapped array). Pixels outside the super-area are zeros with
    ``mask`` False.

    Outputs follow :class:`LoadMultiModalTiles`: ``results[m]`` (T, C, size, size)
    float32, ``m_mask`` (T, size, size) bool, ``m_doy`` (T,) and ``m_dates``.

    Args:
        modality (str): The modality name (``s2``).
        size (int): Super-patch size in pixels.
        bands (Sequence[str], optional): Bands to keep (of
            :data:`FLAIR2_S2_BANDS`); all when None.
        scale (str): A key of ``SENSOR_SCALINGS`` ('reflectance' for L2A DN).
        cloud_threshold (int, optional): Mark pixels whose cloud or snow
            probability (``_masks.npy``, 0-100) is >= this invalid.
    """

    def __init__(self,
                 modality='s2',
                 size=40,
                 bands=None,
                 scale='reflectance',
                 cloud_threshold=None):
        if scale not in SENSOR_SCALINGS:
            raise ValueError(f'LoadFLAIR2Sentinel: scale must be one of '
                             f'{sorted(SENSOR_SCALINGS)}, got {scale!r}')
        self.modality = modality
        self.size = int(size)
        self.bands = None if bands is None else list(bands)
        self.scale = scale
        self.cloud_threshold = cloud_threshold

    def _window(self, path, centroid, shape):
        """Read window (y0, y1, x0, x1) inside the array and its offset in the
        output."""
        h, w = shape
        r0, c0 = centroid[0] - self.size // 2, centroid[1] - self.size // 2
        y0, y1 = max(r0, 0), min(r0 + self.size, h)
        x0, x1 = max(c0, 0), min(c0 + self.size, w)
        if y0 >= y1 or x0 >= x1:
            raise RasterReadError(f'{path}: centroid {tuple(centroid)} is outside the '
                                  f'super-area ({h} x {w} px)')
        return (y0, y1, x0, x1), (y0 - r0, x0 - c0)

    def _read(self, path, bands_per_date, centroid):
        src = ArraySource(path, 'npy')
        if src.dates_first_shape is None:
            raise RasterReadError(f'{path}: expected a (T, C, H, W) array')
        t, c = src.dates_first_shape
        (y0, y1, x0, x1), (oy, ox) = self._window(path, centroid,
                                                  (src.info.height, src.info.width))
        frac = (x0 / src.info.width, y0 / src.info.height, x1 / src.info.width,
                y1 / src.info.height)
        idx = [d * c + b for d in range(t) for b in bands_per_date]
        block = src.read_fraction(frac, None, idx, 'nearest')
        out = np.zeros((t, len(bands_per_date), self.size, self.size), np.float64)
        inside = np.zeros((t, self.size, self.size), bool)
        out[:, :, oy:oy + y1 - y0,
            ox:ox + x1 - x0] = block.reshape(t, len(bands_per_date), y1 - y0, x1 - x0)
        inside[:, oy:oy + y1 - y0, ox:ox + x1 - x0] = True
        return out, inside

    def transform(self, results):
        sid = results.get('sample_id', '?')
        desc = (results.get('modalities') or {}).get(self.modality)
        if desc is None or 'centroid' not in desc:
            raise KeyError(f'sample {sid}: no {self.modality!r} super-area with a '
                           "'centroid' (build the samples with eofm.FLAIR2)")
        names = list(desc.get('bands') or FLAIR2_S2_BANDS)
        wanted = self.bands or names
        missing = [b for b in wanted if b not in names]
        if missing:
            raise ValueError(f'sample {sid}: bands {missing} are not in the super-area '
                             f'bands {names}')
        data, valid = self._read(desc['path'], [names.index(b) for b in wanted],
                                 desc['centroid'])
        if len(desc['dates']) != data.shape[0]:
            raise RasterReadError(f"{desc['path']}: {data.shape[0]} dates in the "
                                  f"array, {len(desc['dates'])} in the product list")
        if self.cloud_threshold is not None:
            probs, _ = self._read(desc['masks_path'], [0, 1], desc['centroid'])
            valid &= probs.max(axis=1) < self.cloud_threshold
        with np.errstate(invalid='ignore'):
            data = SENSOR_SCALINGS[self.scale](data)
        valid &= np.isfinite(data).all(axis=1)
        data = np.where(valid[:, None], data, 0.0).astype(np.float32)
        dates = [
            parse_date(d, f'sample {sid}, {self.modality}.dates') for d in desc['dates']
        ]
        m = self.modality
        results[m], results[mask_key(m)] = data, valid
        results[doy_key(m)] = np.array([day_of_year(d) for d in dates], np.int64)
        results[dates_key(m)] = [d.isoformat() for d in dates]
        present = results.setdefault('modalities_present', [])
        if m not in present:
            present.append(m)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(modality={self.modality!r}, size={self.size})'
