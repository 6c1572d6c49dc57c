"""BigEarthNet-S2 and BigEarthNet-MM (19 classes) in their official layouts.

BigEarthNet v1.0 (Sumbul et al., "BigEarthNet: A Large-Scale Benchmark Archive for
Remote Sensing Image Understanding", IGARSS 2019; "BigEarthNet-MM", IEEE GRSM 2021):
590,326 Sentinel-2 L2A patches of 1.2 x 1.2 km (120 x 120 px at 10 m) over ten
European countries, each with a Sentinel-1 patch (BigEarthNet-MM), labelled with CLC
2018 classes. The archives extract to::

    BigEarthNet-v1.0/<S2 patch>/<S2 patch>_B01.tif ... _B12.tif, _B8A.tif
                                <S2 patch>_labels_metadata.json
    BigEarthNet-S1-v1.0/<S1 patch>/<S1 patch>_VV.tif, _VH.tif
                                   <S1 patch>_labels_metadata.json

One GeoTIFF per band: B02, B03, B04, B08 at 10 m (120 px), B05, B06, B07, B8A, B11,
B12 at 20 m (60 px), B01, B09 at 60 m (20 px); they are stacked by GDAL on the 10 m
grid. S1 bands are backscatter in dB. The label JSON lists the 43-class CLC names;
they are mapped to the 19-class nomenclature of Sumbul et al. (2021) (the
``label_indices.json`` of the BigEarthNet-S2 / -MM 19-class model repositories).

Splits are the CSV files of those repositories (``train.csv``, ``val.csv``,
``test.csv``): one S2 patch name per line (S2), or ``<S2 patch>,<S1 patch>`` per line
(MM). The published lists of patches covered by seasonal snow and by clouds and
cloud shadows (``patches_with_seasonal_snow.csv``, ``patches_with_cloud_and_shadow.csv``
from the BigEarthNet website, one patch name per line) are passed as
``exclude_files``; a sample is dropped when its S2 or S1 name is listed.

Samples: modality ``s2`` (12 bands, ``band_paths``) and, for MM, ``s1`` (VV, VH);
label ``gt_labels`` (19-dim multi-hot); ``acquisition_date`` (ISO) and ``s2_dates``.

"""
import json
import os
import os.path as osp

from eofm.registry import DATASETS
from .multimodal_dataset import S2_BANDS, OfficialLayoutDataset

__all__ = [
    'BigEarthNetS2', 'BigEarthNetMM', 'BIGEARTHNET_19_CLASSES', 'BIGEARTHNET_43_CLASSES'
]

# 43-class CLC names of the label JSON files, and the 19-class nomenclature.
BIGEARTHNET_43_CLASSES = (
    'Continuous urban fabric', 'Discontinuous urban fabric',
    'Industrial or commercial units', 'Road and rail networks and associated land',
    'Port areas', 'Airports', 'Mineral extraction sites', 'Dump sites',
    'Construction sites', 'Green urban areas', 'Sport and leisure facilities',
    'Non-irrigated arable land', 'Permanently irrigated land', 'Rice fields',
    'Vineyards', 'Fruit trees and berry plantations', 'Olive groves', 'Pastures',
    'Annual crops associated with permanent crops', 'Complex cultivation patterns',
    'Land principally occupied by agriculture, with significant areas of natural '
    'vegetation', 'Agro-forestry areas', 'Broad-leaved forest', 'Coniferous forest',
    'Mixed forest', 'Natural grassland', 'Moors and heathland',
    'Sclerophyllous vegetation', 'Transitional woodland/shrub', 'Beaches, dunes, sands',
    'Bare rock', 'Sparsely vegetated areas', 'Burnt areas', 'Inland marshes',
    'Peatbogs', 'Salt marshes', 'Salines', 'Intertidal flats', 'Water courses',
    'Water bodies', 'Coastal lagoons', 'Estuaries', 'Sea and ocean')

BIGEARTHNET_19_CLASSES = (
    'Urban fabric', 'Industrial or commercial units', 'Arable land', 'Permanent crops',
    'Pastures', 'Complex cultivation patterns',
    'Land principally occupied by agriculture, with significant areas of natural '
    'vegetation', 'Agro-forestry areas', 'Broad-leaved forest', 'Coniferous forest',
    'Mixed forest', 'Natural grassland and sparsely vegetated areas',
    'Moors, heathland and sclerophyllous vegetation', 'Transitional woodland, shrub',
    'Beaches, dunes, sands', 'Inland wetlands', 'Coastal wetlands', 'Inland waters',
    'Marine waters')

# The 43-class indices of each 19-class index (``label_indices.json``); the 11
# classes left out (roads, ports, airports, mine/dump/construction sites, green urban
# and sport areas, bare rock, burnt areas, intertidal flats) are dropped.
_FROM_43 = ((0, 1), (2, ), (11, 12, 13), (14, 15, 16, 18), (17, ), (19, ), (20, ),
            (21, ), (22, ), (23, ), (24, ), (25, 31), (26, 27), (28, ), (29, ),
            (33, 34), (35, 36), (38, 39), (40, 41, 42))
BIGEARTHNET_43_TO_19 = {old: new for new, olds in enumerate(_FROM_43) for old in olds}

_BEN_S2_BANDS = tuple(b for b in S2_BANDS if b != 'B10')  # L2A: no cirrus band


@DATASETS.register_module()
class BigEarthNetS2(OfficialLayoutDataset):
    """BigEarthNet-S2 v1.0, 19-class multi-label classification (see module doc).

    Args:
        split_file (str, optional): Split CSV relative to ``data_root`` (S2 patch
            name in the first column); all patch folders when None.
        exclude_files (Sequence[str]): Lists of patch names to leave out (the
            snow and cloud/shadow lists of the BigEarthNet website).
        s2_dir (str): Folder of the S2 patch folders.
        **kwargs: :class:`MultiModalDataset` arguments (``data_root``,
            ``pipeline``...).
    """

    METAINFO = dict(classes=BIGEARTHNET_19_CLASSES)
    S2_BANDS = _BEN_S2_BANDS
    LAYOUT = ('BigEarthNet-v1.0/<patch>/<patch>_B01.tif ... _B8A.tif and '
              '<patch>_labels_metadata.json, and split CSVs of patch names')

    def __init__(self,
                 split_file=None,
                 exclude_files=(),
                 s2_dir='BigEarthNet-v1.0',
                 **kwargs):
        self.split_file = split_file
        self.exclude_files = list(exclude_files)
        self.s2_dir = s2_dir
        self._label_index = {c: i for i, c in enumerate(BIGEARTHNET_43_CLASSES)}
        super().__init__(**kwargs)

    def _pairs(self):
        """[(s2 name, s1 name or None)] of the split."""
        s2_root = self.require_dir(self.s2_dir, 'Sentinel-2 patch')
        if self.split_file is None:
            return [(n, None) for n in sorted(os.listdir(s2_root))
                    if osp.isdir(osp.join(s2_root, n))]
        rows = self.read_rows(self.split_file, 'split file')
        return [(r[0], r[1] if len(r) > 1 and r[1] else None) for r in rows]

    def _labels(self, s2_name):
        """19-class multi-hot vector and acquisition date from the S2 label JSON."""
        path = self.root(self.s2_dir, s2_name, f'{s2_name}_labels_metadata.json')
        if not osp.isfile(path):
            raise self.layout_error(f'label file "{path}" of patch {s2_name} does '
                                    'not exist')
        try:
            with open(path, encoding='utf-8') as f:
                meta = json.load(f)
            names = meta['labels']
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f'{path}: expected a JSON object with a "labels" list '
                             f'of CLC class names ({e!r})') from e
        multi_hot = [0] * len(BIGEARTHNET_19_CLASSES)
        for name in names:
            if name not in self._label_index:
                raise ValueError(f'{path}: unknown label {name!r}, not one of the 43 '
                                 'BigEarthNet CLC classes')
            new = BIGEARTHNET_43_TO_19.get(self._label_index[name])
            if new is not None:
                multi_hot[new] = 1
        date = str(meta.get('acquisition_date', '')).split(' ')[0]
        return multi_hot, date

    def _sample(self, s2_name, s1_name):
        labels, date = self._labels(s2_name)
        folder = osp.join(self.s2_dir, s2_name)
        sample = dict(
            sample_id=s2_name,
            modalities=dict(
                s2=dict(
                    band_paths=[
                        osp.join(folder, f'{s2_name}_{b}.tif') for b in self.S2_BANDS
                    ],
                    bands=list(self.S2_BANDS))),
            gt_labels=labels)
        if date:
            sample.update(acquisition_date=date, s2_dates=[date])
        return sample

    def scan(self):
        excluded = self.read_names(self.exclude_files, 'exclusion list')
        return [
            self._sample(s2, s1) for s2, s1 in self._pairs()
            if s2 not in excluded and s1 not in excluded
        ]


@DATASETS.register_module()
class BigEarthNetMM(BigEarthNetS2):
    """BigEarthNet-MM: BigEarthNet-S2 plus the matching Sentinel-1 patch (``s1``).

    The split CSV must pair the patches (``<S2 patch>,<S1 patch>`` per line, as in
    the BigEarthNet-MM 19-class model repository).

    Args:
        s1_dir (str): Folder of the S1 patch folders.
        **kwargs: :class:`BigEarthNetS2` arguments.
    """

    LAYOUT = ('BigEarthNet-v1.0/<S2 patch>/..., BigEarthNet-S1-v1.0/<S1 patch>/'
              '<S1 patch>_VV.tif, _VH.tif and split CSVs of "<S2 patch>,<S1 patch>"')

    def __init__(self, s1_dir='BigEarthNet-S1-v1.0', **kwargs):
        self.s1_dir = s1_dir
        super().__init__(**kwargs)

    def _sample(self, s2_name, s1_name):
        if s1_name is None:
            where = self.split_file or 'the split'
            raise ValueError(f'{type(self).__name__}: {where}: S2 patch {s2_name} has '
                             'no S1 patch; expected "<S2 patch>,<S1 patch>" per line')
        sample = super()._sample(s2_name, s1_name)
        folder = osp.join(self.s1_dir, s1_name)
        sample['modalities']['s1'] = dict(
            band_paths=[osp.join(folder, f'{s1_name}_{p}.tif') for p in ('VV', 'VH')],
            bands=['VV', 'VH'])
        sample['s1_patch'] = s1_name
        return sample

    def _pairs(self):
        self.require_dir(self.s1_dir, 'Sentinel-1 patch')
        return super()._pairs()
