"""PASTIS, PASTIS-R, PASTIS-HD and PASTIS-MM in their official layouts.

PASTIS (Sainte Fare Garnot & Landrieu, "Panoptic Segmentation of Satellite Image
Time Series with Convolutional Temporal Attention Networks", ICCV 2021) has 2,433
patches of 128 x 128 px at 10 m in France, each a Sentinel-2 series of 38-61 dates,
with semantic (18 crop types, background, void) and instance (parcel) annotations
and an official split into 5 folds. PASTIS-R (Sainte Fare Garnot et al.,
"Multi-modal temporal attention models for crop mapping from satellite time series",
ISPRS J. 2022) adds ~70 ascending and ~70 descending Sentinel-1 dates per patch;
PASTIS-HD (Astruc et al., "OmniSat", ECCV 2024) adds a SPOT 6-7 image at 1 m (8-bit
RGB, 1280 x 1280 px); SkySense's PASTIS-MM (Guo et al., CVPR 2024) pairs each patch
with a high-resolution optical image, whose file pattern is an argument here::

    PASTIS-R/
        metadata.geojson              # one feature per patch: ID_PATCH, Fold (1-5),
                                      # dates-S2 / dates-S1A / dates-S1D
                                      # ({"0": 20180924, ...}), geometry in EPSG:2154
        DATA_S2/S2_{id}.npy           # (T, 10, 128, 128) int16 L2A reflectance x 1e4
        DATA_S1A/S1A_{id}.npy         # (T, 3, 128, 128) VV, VH (dB), VV/VH
        DATA_S1D/S1D_{id}.npy         # (T, 3, 128, 128)
        ANNOTATIONS/TARGET_{id}.npy   # (3, 128, 128); channel 0: semantic class
        INSTANCE_ANNOTATIONS/INSTANCES_{id}.npy   # (128, 128) parcel ids
        DATA_SPOT/PASTIS_SPOT6_RVB_1M00_2019/SPOT6_RVB_1M00_2019_{id}.tif  # HD

Each sample has the series ``s2``, ``s1_asc``, ``s1_des`` (the ones the dataset is
asked for), the static images (``spot`` for PASTIS-HD, ``hr`` for PASTIS-MM), the
label map ``gt_seg_map`` (class 0 background, 1-18 crops, 19 void, usually ignored)
and ``geo`` (centre ``lon``/``lat`` of the patch, from ``metadata.geojson``). With
``with_instances=True`` the sample also names the instance file, which
:class:`LoadPASTISInstances` reads into ``gt_instance_map``.
"""
import json
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import DATASETS, TRANSFORMS
from .geo_io import parse_date
from .multimodal_dataset import MultiModalDataset

__all__ = [
    'PASTIS', 'PASTISR', 'PASTISHD', 'PASTISMM', 'LoadPASTISInstances', 'PASTIS_CLASSES'
]

PASTIS_CLASSES = ('Background', 'Meadow', 'Soft winter wheat', 'Corn', 'Winter barley',
                  'Winter rapeseed', 'Spring barley', 'Sunflower', 'Grapevine', 'Beet',
                  'Winter triticale', 'Winter durum wheat',
                  'Fruits, vegetables, flowers', 'Potatoes', 'Leguminous fodder',
                  'Soybeans', 'Orchard', 'Mixed cereal', 'Sorghum', 'Void label')

S2_BANDS = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')
S1_BANDS = ('VV', 'VH', 'VV/VH')

# Series modality -> (file/metadata prefix, bands).
SERIES = dict(s2=('S2', S2_BANDS), s1_asc=('S1A', S1_BANDS), s1_des=('S1D', S1_BANDS))

SPOT_PATTERN = 'DATA_SPOT/PASTIS_SPOT6_RVB_1M00_2019/SPOT6_RVB_1M00_2019_{id}.tif'


def _xy(coords):
    """Flat lists of x and y of a GeoJSON (Multi)Polygon's nested coordinates."""
    if coords and isinstance(coords[0], (int, float)):
        return [coords[0]], [coords[1]]
    xs, ys = [], []
    for c in coords or []:
        x, y = _xy(c)
        xs += x
        ys += y
    return xs, ys


def _to_lonlat(crs_name):
    """A function (x, y) -> (lon, lat) from the geojson's CRS (EPSG:2154 default)."""
    from osgeo import osr
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.SetFromUserInput(crs_name)
    dst.ImportFromEPSG(4326)
    for srs in (src, dst):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(src, dst)
    return lambda x, y: tuple(float(v) for v in transform.TransformPoint(x, y)[:2])


@DATASETS.register_module()
class PASTIS(MultiModalDataset):
    """PASTIS semantic (and panoptic) segmentation of crop parcels; see the module doc.

    Args:
        folds (Sequence[int], optional): Official folds (1-5) to take; all when None.
            The usual split trains on folds 1-3 and validates / tests on 4 / 5.
        series (Sequence[str], optional): Series modalities among 's2', 's1_asc',
            's1_des'. Defaults to the variant's (``DEFAULT_SERIES``).
        static_images (dict, optional): Static modality -> ``dict(pattern=...,
            bands=...)``, the pattern relative to ``data_root`` with ``{id}`` for
            ID_PATCH. Defaults to the variant's (``DEFAULT_STATIC``).
        with_instances (bool): Name ``INSTANCE_ANNOTATIONS/INSTANCES_{id}.npy`` in
            each sample (``instance_path``) for :class:`LoadPASTISInstances`.
        metadata_file (str): The patch metadata, relative to ``data_root``.
        **kwargs: Other arguments of :class:`MultiModalDataset` (``data_root``,
            ``pipeline``, ...).
    """

    METAINFO = dict(classes=PASTIS_CLASSES)
    DEFAULT_SERIES = ('s2', )
    DEFAULT_STATIC = {}

    def __init__(self,
                 folds=None,
                 series=None,
                 static_images=None,
                 with_instances=False,
                 metadata_file='metadata.geojson',
                 **kwargs):
        self.folds = None if folds is None else [int(f) for f in folds]
        if self.folds is not None and not set(self.folds) <= {1, 2, 3, 4, 5}:
            raise ValueError(f'{type(self).__name__}: folds must be among 1-5, got '
                             f'{list(folds)}')
        self.series = tuple(self.DEFAULT_SERIES if series is None else series)
        unknown = [s for s in self.series if s not in SERIES]
        if unknown:
            raise ValueError(f'{type(self).__name__}: unknown series {unknown}; '
                             f'choose among {list(SERIES)}')
        if static_images is None:
            static_images = self.DEFAULT_STATIC
        self.static_images = dict(static_images)
        self.with_instances = with_instances
        self.metadata_file = metadata_file
        super().__init__(ann_file='', **kwargs)

    def _features(self):
        path = self._abs(self.metadata_file)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: {path} does not exist; expected the official '
                'layout with metadata.geojson, DATA_S2/ and ANNOTATIONS/ under '
                'data_root')
        with open(path) as f:
            meta = json.load(f)
        if not isinstance(meta.get('features'), list):
            raise ValueError(f'{path}: expected a GeoJSON FeatureCollection')
        crs = ((meta.get('crs') or {}).get('properties') or {}).get('name', 'EPSG:2154')
        return path, meta['features'], _to_lonlat(crs)

    def _dates(self, props, field, where):
        dates = props.get(field)
        if isinstance(dates, str):  # some exports keep the dict as a JSON string
            dates = json.loads(dates)
        if not isinstance(dates, dict) or not dates:
            raise ValueError(f'{where}: field {field!r} must be a non-empty dict of '
                             f'dates (index -> YYYYMMDD), got {dates!r}')
        return [
            parse_date(str(dates[k]), f'{where}, {field}').isoformat()
            for k in sorted(dates, key=int)
        ]

    def _existing(self, rel, where):
        """``rel`` (relative to ``data_root``), after checking that the file exists."""
        if not osp.isfile(self._abs(rel)):
            raise FileNotFoundError(f'{type(self).__name__}: {self._abs(rel)} does '
                                    f'not exist ({where})')
        return rel

    def load_data_list(self):
        path, features, to_lonlat = self._features()
        raws = []
        for i, feature in enumerate(features):
            props = feature.get('properties') or {}
            where = f'{path}: feature {i}'
            missing = [k for k in ('ID_PATCH', 'Fold') if k not in props]
            if missing:
                raise KeyError(f'{where} has no {missing} property')
            pid, fold = int(props['ID_PATCH']), int(props['Fold'])
            if self.folds is not None and fold not in self.folds:
                continue
            where = f'{path}: patch {pid}'
            modalities = {}
            for name in self.series:
                prefix, bands = SERIES[name]
                rel = f'DATA_{prefix}/{prefix}_{pid}.npy'
                modalities[name] = dict(
                    path=self._existing(rel, f'{name} of patch {pid}'),
                    format='npy',
                    dates=self._dates(props, f'dates-{prefix}', where),
                    bands=list(bands))
            for name, desc in self.static_images.items():
                rel = desc['pattern'].format(id=pid)
                modalities[name] = dict(
                    path=self._existing(rel, f'{name} of patch {pid}'))
                if desc.get('bands'):
                    modalities[name]['bands'] = list(desc['bands'])
            target = self._existing(f'ANNOTATIONS/TARGET_{pid}.npy',
                                    f'labels of patch {pid}')
            raw = dict(
                sample_id=str(pid),
                fold=fold,
                modalities=modalities,
                label_maps=dict(gt_seg_map=dict(path=target, format='npy', band=0)))
            if self.with_instances:
                raw['instance_path'] = self._abs(
                    self._existing(f'INSTANCE_ANNOTATIONS/INSTANCES_{pid}.npy',
                                   f'instances of patch {pid}'))
            xs, ys = _xy((feature.get('geometry') or {}).get('coordinates'))
            if xs:
                lon, lat = to_lonlat((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
                raw['geo'] = dict(lon=lon, lat=lat)
            raws.append(raw)
        if not raws:
            raise ValueError(f'{type(self).__name__}: {path} has no patch of folds '
                             f'{self.folds}')
        raws.sort(key=lambda r: int(r['sample_id']))
        return [self.parse_data_info(raw) for raw in raws]


@DATASETS.register_module()
class PASTISR(PASTIS):
    """PASTIS-R: PASTIS with Sentinel-1 ascending and descending series."""

    DEFAULT_SERIES = ('s2', 's1_asc', 's1_des')


@DATASETS.register_module()
class PASTISHD(PASTISR):
    """PASTIS-HD: PASTIS-R with the SPOT 6-7 image (``spot``, 8-bit R, G, B at 1 m)."""

    DEFAULT_STATIC = dict(spot=dict(pattern=SPOT_PATTERN, bands=['R', 'G', 'B']))


@DATASETS.register_module()
class PASTISMM(PASTISR):
    """SkySense's PASTIS-MM: PASTIS-R with a high-resolution optical image ``hr``.

    The image layout is not part of the PASTIS release: pass
    ``static_images=dict(hr=dict(pattern='<folder>/<name>_{id}.tif', bands=[...]))``
    if yours differs from the default ``DATA_HR/HR_{id}.tif``.
    """

    DEFAULT_STATIC = dict(hr=dict(pattern='DATA_HR/HR_{id}.tif'))


@TRANSFORMS.register_module()
class LoadPASTISInstances(BaseTransform):
    """Read a PASTIS parcel-id map (``INSTANCES_{id}.npy``) into ``gt_instance_map``.

    The instance files are 2-D (H, W) arrays, which the loading transform's array
    sources (C, H, W) do not take. Use after :class:`LoadMultiModalTiles` on samples
    of a dataset built with ``with_instances=True``: the map is resized (nearest) to
    ``gt_seg_map``'s size when they differ. Windowed loading is not supported.
    """

    def transform(self, results):
        sid = results.get('sample_id', '?')
        path = results.get('instance_path')
        if path is None:
            raise KeyError(f'sample {sid}: no instance_path; build the PASTIS dataset '
                           'with with_instances=True')
        if results.get('window') is not None:
            raise ValueError(f'sample {sid}: LoadPASTISInstances reads whole patches, '
                             'not windows')
        ids = np.load(path, mmap_mode='r')
        if ids.ndim != 2:
            raise ValueError(f'{path}: expected a (H, W) instance map, got shape '
                             f'{ids.shape}')
        ids = np.asarray(ids, dtype=np.int64)
        size = results['gt_seg_map'].shape if 'gt_seg_map' in results else ids.shape
        if ids.shape != tuple(size):
            rows = np.arange(size[0]) * ids.shape[0] // size[0]
            cols = np.arange(size[1]) * ids.shape[1] // size[1]
            ids = ids[rows[:, None], cols[None, :]]
        results['gt_instance_map'] = ids
        return results
