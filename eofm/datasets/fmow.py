"""fMoW-Sentinel (Sentinel-2 version of Functional Map of the World) in its layout.

fMoW-Sentinel (Cong et al., "SatMAE: Pre-training Transformers for Temporal and
Multi-Spectral Satellite Imagery", NeurIPS 2022; fMoW: Christie et al., CVPR 2018):
Sentinel-2 composites (13 bands B01-B12 with B8A, uint16 GeoTIFFs, ~10 m) of the
fMoW locations, each location a time series, 62 categories. The release holds::

    train.csv, val.csv, test_gt.csv     category,location_id,image_id,timestamp,polygon
    train/<category>/<category>_<location_id>/<category>_<location_id>_<image_id>.tif
    val/..., test_gt/...

``timestamp`` is ``YYYY-MM-DDThh:mm:ssZ`` (the centre of the composite interval) and
``polygon`` the WKT lon/lat polygon of the location.

Samples (``mode='image'``, as SatMAE trains): one per CSV row, static modality
``s2`` with its date in ``s2_dates``; (``mode='series'``): one per location, ``s2``
the dated series of all its images (``paths`` + ``dates``). Label ``gt_label``
(category index); ``geo`` lon/lat is the polygon centre.
"""
import csv
import os.path as osp
import re

from eofm.registry import DATASETS
from .multimodal_dataset import S2_BANDS, OfficialLayoutDataset
from .geo_io import parse_date

__all__ = ['FMoWSentinel', 'FMOW_CLASSES']

FMOW_CLASSES = ('airport', 'airport_hangar', 'airport_terminal', 'amusement_park',
                'aquaculture', 'archaeological_site', 'barn', 'border_checkpoint',
                'burial_site', 'car_dealership', 'construction_site', 'crop_field',
                'dam', 'debris_or_rubble', 'educational_institution',
                'electric_substation', 'factory_or_powerplant', 'fire_station',
                'flooded_road', 'fountain', 'gas_station', 'golf_course',
                'ground_transportation_station', 'helipad', 'hospital',
                'impoverished_settlement', 'interchange', 'lake_or_pond', 'lighthouse',
                'military_facility', 'multi-unit_residential', 'nuclear_powerplant',
                'office_building', 'oil_or_gas_facility', 'park',
                'parking_lot_or_garage', 'place_of_worship', 'police_station', 'port',
                'prison', 'race_track', 'railway_bridge', 'recreational_facility',
                'road_bridge', 'runway', 'shipyard', 'shopping_mall',
                'single-unit_residential', 'smokestack', 'solar_farm', 'space_facility',
                'stadium', 'storage_tank', 'surface_mine', 'swimming_pool',
                'toll_booth', 'tower', 'tunnel_opening', 'waste_disposal',
                'water_treatment_facility', 'wind_farm', 'zoo')

_COLUMNS = ('category', 'location_id', 'image_id', 'timestamp')


def polygon_center(wkt):
    """(lon, lat) mean of the vertices of a WKT polygon, or None."""
    nums = [float(v) for v in re.findall(r'-?\d+(?:\.\d+)?(?:[eE]-?\d+)?', wkt or '')]
    pts = list(zip(nums[0::2], nums[1::2]))
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    if not pts:
        return None
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


@DATASETS.register_module()
class FMoWSentinel(OfficialLayoutDataset):
    """fMoW-Sentinel, 62-class single-label classification (see the module doc).

    Args:
        split (str): 'train', 'val' or 'test' (``test_gt.csv`` / ``test_gt/``).
        mode (str): 'image' (one sample per image) or 'series' (one per location).
        csv_file (str, optional): The metadata CSV (default from ``split``).
        img_dir (str, optional): The image folder (default from ``split``).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=FMOW_CLASSES)
    SPLITS = dict(
        train=('train.csv', 'train'),
        val=('val.csv', 'val'),
        test=('test_gt.csv', 'test_gt'))
    LAYOUT = ('<split>.csv (category,location_id,image_id,timestamp,polygon) and '
              '<split>/<category>/<category>_<location_id>/'
              '<category>_<location_id>_<image_id>.tif')

    def __init__(self,
                 split='train',
                 mode='image',
                 csv_file=None,
                 img_dir=None,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'FMoWSentinel: split must be one of {sorted(self.SPLITS)}'
                             f', got {split!r}')
        if mode not in ('image', 'series'):
            raise ValueError(f"FMoWSentinel: mode must be 'image' or 'series', got "
                             f'{mode!r}')
        self.split, self.mode = split, mode
        self.csv_file = csv_file or self.SPLITS[split][0]
        self.img_dir = img_dir or self.SPLITS[split][1]
        super().__init__(**kwargs)

    def _images(self):
        """One dict per CSV row: category, location, path, ISO date, lon/lat."""
        path = self.root(self.csv_file)
        if not osp.isfile(path):
            raise self.layout_error(f'metadata CSV "{path}" does not exist')
        index = {c: i for i, c in enumerate(FMOW_CLASSES)}
        images = []
        with open(path, encoding='utf-8', newline='') as f:
            reader = csv.DictReader(f)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f'{path}: missing column(s) {missing}; expected a '
                                 f'header with {list(_COLUMNS) + ["polygon"]}')
            for line, row in enumerate(reader, start=2):
                cat = row['category']
                if cat not in index:
                    raise ValueError(f'{path}: line {line}: unknown category {cat!r}')
                loc = f"{cat}_{row['location_id']}"
                images.append(
                    dict(
                        category=cat,
                        label=index[cat],
                        location=loc,
                        path=osp.join(self.img_dir, cat, loc,
                                      f"{loc}_{row['image_id']}.tif"),
                        date=parse_date(row['timestamp'][:10],
                                        f'{path}: line {line}, timestamp').isoformat(),
                        center=polygon_center(row.get('polygon'))))
        return images

    @staticmethod
    def _geo(image):
        c = image['center']
        return {} if c is None else dict(geo=dict(lon=c[0], lat=c[1]))

    def scan(self):
        images = self._images()
        if self.mode == 'image':
            return [
                dict(
                    sample_id=osp.splitext(osp.basename(im['path']))[0],
                    modalities=dict(s2=dict(path=im['path'], bands=list(S2_BANDS))),
                    s2_dates=[im['date']],
                    gt_label=im['label'],
                    **self._geo(im)) for im in images
            ]
        series = {}
        for im in images:
            series.setdefault(im['location'], []).append(im)
        raws = []
        for loc, ims in series.items():
            ims = sorted(ims, key=lambda im: im['date'])
            raws.append(
                dict(
                    sample_id=loc,
                    modalities=dict(
                        s2=dict(
                            paths=[im['path'] for im in ims],
                            dates=[im['date'] for im in ims],
                            bands=list(S2_BANDS))),
                    gt_label=ims[0]['label'],
                    **self._geo(ims[0])))
        return raws
