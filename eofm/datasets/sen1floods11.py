"""Sen1Floods11 (hand-labelled split) in its official v1.1 layout.

Sen1Floods11 (Bonafilia et al., "Sen1Floods11: a georeferenced dataset to train and
test deep learning flood algorithms for Sentinel-1", CVPR Workshops 2020): 446
hand-labelled 512 x 512 px chips at 10 m (5120 m) over 11 flood events, each with a
Sentinel-1 GRD image, a Sentinel-2 L1C image and a water map. The release (bucket
``sen1floods11``, folder ``v1.1``) extracts to::

    v1.1/data/flood_events/HandLabeled/
        S1Hand/<Country>_<id>_S1Hand.tif        # 2 bands: VV, VH (dB), float32
        S2Hand/<Country>_<id>_S2Hand.tif        # 13 bands B1-B12 with B8A (L1C)
        LabelHand/<Country>_<id>_LabelHand.tif  # int16: -1 no data, 0 land, 1 water
    v1.1/splits/flood_handlabeled/
        flood_train_data.csv, flood_valid_data.csv, flood_test_data.csv
        # rows "<Country>_<id>_S1Hand.tif,<Country>_<id>_LabelHand.tif", no header

Every sample has the modalities ``s1`` (bands ``VV``, ``VH``) and ``s2`` (the 13
bands, :data:`S2_BANDS` naming) as one-date series, and the label map
``gt_seg_map`` (-1 no data, 0 not water, 1 water; the configs map -1 to the ignore
index 255 with ``eofm.RemapLabelMap``). The chips are geo-referenced GeoTIFFs, so
the loading transform computes ``geo`` itself.

Assumption (acquisition dates): the file names carry no date and the per-chip
metadata are not read here. Models whose series encoders need a day of year
(AnySat's 's1' / 's2' projectors) get ``event_dates[<Country>]`` when given
(``dict(Bolivia=dict(s1='2018-02-15', s2='2018-02-15'), ...)`` or one date string
for both), else ``default_date`` for every chip: a placeholder, documented in the
configs, that gives every chip the same day of year.
"""
import os.path as osp

from eofm.registry import DATASETS
from .geo_io import parse_date
from .multimodal_dataset import S2_BANDS, OfficialLayoutDataset

__all__ = ['Sen1Floods11', 'SEN1FLOODS11_CLASSES']

SEN1FLOODS11_CLASSES = ('not water', 'water')
HANDLABELED_DIR = 'v1.1/data/flood_events/HandLabeled'
SPLIT_FILE = 'v1.1/splits/flood_handlabeled/flood_{split}_data.csv'
SPLITS = dict(train='train', val='valid', valid='valid', test='test')
S1_SUFFIX = '_S1Hand.tif'


@DATASETS.register_module()
class Sen1Floods11(OfficialLayoutDataset):
    """Sen1Floods11 hand-labelled flood chips (see the module doc).

    Args:
        split (str): 'train', 'val' (or 'valid') or 'test': picks the official
            split list. Ignored when ``split_file`` is given.
        split_file (str, optional): A split list relative to ``data_root`` (rows
            whose first field is an ``*_S1Hand.tif`` name); the official
            ``flood_{split}_data.csv`` when None.
        data_dir (str): The hand-labelled data folder, relative to ``data_root``.
        event_dates (dict, optional): Country (the name's prefix, e.g. 'Bolivia',
            'Sri-Lanka') -> a date, or ``dict(s1=date, s2=date)``; the acquisition
            dates of the chips of that event.
        default_date (str): Date of the chips of events not in ``event_dates``
            (a placeholder; see the module doc).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=SEN1FLOODS11_CLASSES)
    LAYOUT = (f'{HANDLABELED_DIR}/{{S1Hand,S2Hand,LabelHand}}/<Country>_<id>_'
              '{S1Hand,S2Hand,LabelHand}.tif and split lists '
              f'{SPLIT_FILE.format(split="{train,valid,test}")}')

    def __init__(self,
                 split='train',
                 split_file=None,
                 data_dir=HANDLABELED_DIR,
                 event_dates=None,
                 default_date='2019-01-01',
                 **kwargs):
        if split_file is None and split not in SPLITS:
            raise ValueError(f"Sen1Floods11: split must be 'train', 'val' or 'test', "
                             f'got {split!r}')
        self.split = split
        self.split_file = split_file or SPLIT_FILE.format(split=SPLITS[split])
        self.data_dir = data_dir
        self.default_date = parse_date(default_date,
                                       'Sen1Floods11 default_date').isoformat()
        self.event_dates = {}
        for country, dates in (event_dates or {}).items():
            if not isinstance(dates, dict):
                dates = dict(s1=dates, s2=dates)
            self.event_dates[country] = {
                m:
                parse_date(dates[m],
                           f'Sen1Floods11 event_dates.{country}.{m}').isoformat()
                for m in ('s1', 's2')
            }
        super().__init__(**kwargs)

    def _dates(self, country):
        dates = self.event_dates.get(country)
        if dates is None:
            return dict(s1=self.default_date, s2=self.default_date)
        return dates

    def _chips(self):
        chips = []
        for i, row in enumerate(self.read_rows(self.split_file, 'split list')):
            name = osp.basename(row[0])
            if not name.endswith(S1_SUFFIX):
                raise ValueError(
                    f'{self.root(self.split_file)}: line {i + 1}: expected '
                    f'"<Country>_<id>{S1_SUFFIX},<Country>_<id>_LabelHand.tif", got '
                    f'{",".join(row)!r}')
            chips.append(name[:-len(S1_SUFFIX)])
        return chips

    def scan(self):
        for sub in ('S1Hand', 'S2Hand', 'LabelHand'):
            self.require_dir(osp.join(self.data_dir, sub), sub)
        raws = []
        for chip in self._chips():
            paths = {
                sub: osp.join(self.data_dir, sub, f'{chip}_{sub}.tif')
                for sub in ('S1Hand', 'S2Hand', 'LabelHand')
            }
            for sub, rel in paths.items():
                if not osp.isfile(self.root(rel)):
                    raise self.layout_error(
                        f'chip {chip} of {self.root(self.split_file)} has no {sub} '
                        f'file "{self.root(rel)}"')
            country = chip.rsplit('_', 1)[0]
            dates = self._dates(country)
            raws.append(
                dict(
                    sample_id=chip,
                    event=country,
                    modalities=dict(
                        s1=dict(
                            path=paths['S1Hand'],
                            bands=['VV', 'VH'],
                            dates=[dates['s1']]),
                        s2=dict(
                            path=paths['S2Hand'],
                            bands=list(S2_BANDS),
                            dates=[dates['s2']])),
                    label_maps=dict(gt_seg_map=dict(path=paths['LabelHand']))))
        return raws
