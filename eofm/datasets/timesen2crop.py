"""TimeSen2Crop in its official layout.

TimeSen2Crop (Weikmann, Paris and Bruzzone, "TimeSen2Crop: A Million Labeled Samples
Dataset of Sentinel 2 Image Time Series for Crop-Type Classification", IEEE JSTARS
14, 2021): about 1.2 million Sentinel-2 L2A pixel series over Austria, labelled with
16 crop types from the Austrian farmers' declarations. 16 tile folders: 15
Sentinel-2 tiles of the agronomic year September 2017 - August 2018 and one tile of
September 2018 - August 2019::

    <tile>/dates.csv            acquisition dates of the tile, oldest first
    <tile>/<class>/<pixel>.csv  one file per pixel, <class> in 0 ... 15

A pixel file has a row per date and the columns B2, B3, B4, B5, B6, B7, B8A, B11,
B12 (surface reflectance x 1e4) and a flag: 0 clear, 1 cloud, 2 shadow, 3 snow
(:data:`TS2C_COLUMNS`). Class names (:data:`TS2C_CLASSES`) in the order of the
dataset description: Legumes, Grassland, Maize, Potato, Sunflower, Soy, Winter
Barley, Winter Caraway, Rye, Rapeseed, Beet, Spring Cereals, Winter Wheat, Winter
Triticale, Permanent Plantations, Other Crops.

A sample is one pixel: the modality ``s2`` (the nine bands) and ``s2_flag`` (the
flag column, for :class:`eofm.FilterCloudyDates` or a mask), both read from the
pixel CSV with ``format='csv'`` as a (T, C, 1, 1) series on the tile's dates; the
class is the folder's. Scanning is one directory walk (no pixel file is opened);
the ``dates.csv`` files are read once per tile, and the sample dicts are kept
compact (tile, class, pixel) and expanded when an item is fetched.

Assumptions (the release is not explicit about them):

* Header rows: ``dates.csv`` and the pixel CSVs are read with or without a header
  row (a first row that does not parse as a date / number is a header); dates are
  ``YYYYMMDD`` or ISO ``YYYY-MM-DD``; ``dates.csv`` may have an index column before
  the date (the last field of each row is the date).
* The class order above is the order of the dataset's description (folder ``0`` is
  Legumes, ``15`` Other Crops); it is not checked against the data.
* Splits are lists of tile folder names (``train_tiles`` / ``val_tiles`` /
  ``test_tiles``). By default the test tile is the tile of the 2018-2019 agronomic
  year (found from its ``dates.csv``: first date on or after 2018-09-01), the
  validation tile is the last 2017-2018 tile in name order, and the training
  tiles are the others. The AnySat paper does not give its split.
* The tile's dates are the pixel's dates (one row per line of ``dates.csv``; a
  different number of rows is an error when the pixel is read).
"""
import datetime
import os
import os.path as osp

from eofm.registry import DATASETS
from .geo_io import parse_date
from .multimodal_dataset import MultiModalDataset, OfficialLayoutDataset

__all__ = ['TimeSen2Crop', 'TS2C_CLASSES', 'TS2C_BANDS', 'TS2C_COLUMNS']

TS2C_CLASSES = ('Legumes', 'Grassland', 'Maize', 'Potato', 'Sunflower', 'Soy',
                'Winter Barley', 'Winter Caraway', 'Rye', 'Rapeseed', 'Beet',
                'Spring Cereals', 'Winter Wheat', 'Winter Triticale',
                'Permanent Plantations', 'Other Crops')
TS2C_BANDS = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12')
TS2C_COLUMNS = TS2C_BANDS + ('flag', )
# First day of the 2018-2019 agronomic year (the test tile's).
SECOND_YEAR_START = datetime.date(2018, 9, 1)


def read_dates_csv(path):
    """ISO dates of a ``dates.csv`` (with or without header; the last field of a
    row is the date, ``YYYYMMDD`` or ``YYYY-MM-DD``)."""
    with open(path, encoding='utf-8') as f:
        rows = [line.strip().split(',') for line in f if line.strip()]
    dates = []
    for i, row in enumerate(rows):
        text = row[-1].strip().strip('"')
        try:
            dates.append(parse_date(text, f'{path}, line {i + 1}'))
        except ValueError:
            if i == 0:  # a header row
                continue
            raise
    return [d.isoformat() for d in dates]


def _pixel_key(name):
    stem = name[:-4]
    return (0, int(stem), '') if stem.isdigit() else (1, 0, stem)


@DATASETS.register_module()
class TimeSen2Crop(OfficialLayoutDataset):
    """TimeSen2Crop: one Sentinel-2 pixel series per sample, 16 crop types.

    Args:
        split (str): 'train', 'val', 'test' or 'all'.
        tiles (Sequence[str], optional): Tile folders to read; overrides ``split``.
        val_tiles (Sequence[str], optional): Validation tiles; default: the last
            2017-2018 tile in name order.
        test_tiles (Sequence[str], optional): Test tiles; default: the tile(s) of
            the 2018-2019 agronomic year.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=TS2C_CLASSES)
    LAYOUT = ('<tile>/dates.csv and <tile>/<class 0-15>/<pixel>.csv (rows = dates, '
              'columns B2 B3 B4 B5 B6 B7 B8A B11 B12 flag) for each tile folder')

    def __init__(self,
                 split='train',
                 tiles=None,
                 val_tiles=None,
                 test_tiles=None,
                 **kwargs):
        if tiles is None and split not in ('train', 'val', 'test', 'all'):
            raise ValueError("TimeSen2Crop: split must be 'train', 'val', 'test' or "
                             f"'all' (or give tiles), got {split!r}")
        self.split = split
        self.tiles = None if tiles is None else list(tiles)
        self.val_tiles = None if val_tiles is None else list(val_tiles)
        self.test_tiles = None if test_tiles is None else list(test_tiles)
        self.tile_dates = {}
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ tiles
    def _all_tiles(self):
        root = self.root()
        if not osp.isdir(root):
            raise self.layout_error(f'data_root "{root}" does not exist')
        return sorted(
            e.name for e in os.scandir(root)
            if e.is_dir() and osp.isfile(osp.join(e.path, 'dates.csv')))

    def _dates(self, tile):
        if tile not in self.tile_dates:
            path = self.root(tile, 'dates.csv')
            if not osp.isfile(path):
                raise self.layout_error(f'tile "{tile}" has no dates file "{path}"')
            dates = read_dates_csv(path)
            if not dates:
                raise self.layout_error(f'"{path}" lists no dates')
            if dates != sorted(dates):
                raise self.layout_error(f'"{path}": dates are not oldest first')
            self.tile_dates[tile] = dates
        return self.tile_dates[tile]

    def _split_tiles(self, found):
        if self.tiles is not None:
            return self.tiles
        if self.split == 'all':
            return found
        test = self.test_tiles
        if test is None:
            test = [
                t for t in found if parse_date(self._dates(t)[0]) >= SECOND_YEAR_START
            ]
        val = self.val_tiles
        if val is None:
            rest = [t for t in found if t not in test]
            val = rest[-1:]
        if self.split == 'test':
            return test
        if self.split == 'val':
            return val
        return [t for t in found if t not in test and t not in val]

    # ------------------------------------------------------------------ scan
    def scan(self):
        found = self._all_tiles()
        if not found:
            raise self.layout_error(f'no tile folder with a dates.csv under '
                                    f'"{self.root()}"')
        tiles = self._split_tiles(found)
        missing = [t for t in tiles if t not in found]
        if missing:
            raise self.layout_error(f'tile folder(s) {missing} not found under '
                                    f'"{self.root()}" (found {found})')
        if not tiles:
            raise self.layout_error(f'split {self.split!r} has no tile (found '
                                    f'{found}); set tiles / val_tiles / test_tiles')
        raws = []
        n_cls = len(TS2C_CLASSES)
        for tile in tiles:
            self._dates(tile)
            classes = []
            for entry in os.scandir(self.root(tile)):
                if not entry.is_dir():
                    continue
                if not entry.name.isdigit() or int(entry.name) >= n_cls:
                    raise self.layout_error(f'"{entry.path}" is not a class folder '
                                            f'0 ... {n_cls - 1}')
                classes.append(int(entry.name))
            if not classes:
                raise self.layout_error(f'tile "{self.root(tile)}" has no class '
                                        'folders 0 ... 15')
            for cls in sorted(classes):
                names = [
                    e.name for e in os.scandir(self.root(tile, str(cls)))
                    if e.name.endswith('.csv')
                ]
                for name in sorted(names, key=_pixel_key):
                    raws.append(
                        dict(
                            sample_id=f'{tile}/{cls}/{name[:-4]}',
                            tile=tile,
                            gt_label=cls))
        return raws

    def parse_data_info(self, raw_data_info):
        """Compact: the full description is built in :meth:`get_data_info`."""
        return raw_data_info

    def get_data_info(self, idx):
        info = super().get_data_info(idx)
        common = dict(
            path=info['sample_id'] + '.csv',
            format='csv',
            bands=list(TS2C_COLUMNS),
            dates=self.tile_dates[info['tile']])
        info['modalities'] = dict(s2=dict(common), s2_flag=dict(common))
        return MultiModalDataset.parse_data_info(self, info)
