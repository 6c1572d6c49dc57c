"""BraDD-S1TS in an assumed per-tile layout.

BraDD-S1TS (Karaman et al., "Deforestation detection in the Amazon with Sentinel-1
SAR image time series", ISPRS Annals 2023): 13,234 tiles of 48 x 48 px at 10 m
(480 m) in the Brazilian Amazon, each a Sentinel-1 series of 20-66 dates (VV, VH)
with a pixel-wise binary label: deforestation between the first and the last image
of the series (1) or not (0).

ASSUMED LAYOUT. The release's file layout is not documented in any source this
module could rely on. It reads a simple per-tile layout instead::

    <split>/<tile_id>/s1.npy      # (T, 2, 48, 48) float32: VV, VH (dB), date-major
    <split>/<tile_id>/dates.txt   # T lines "YYYY-MM-DD" (or YYYYMMDD), in order
    <split>/<tile_id>/mask.npy    # (48, 48) integer: 0 no change, 1 deforestation
                                  # (255: not labelled, ignored)

with ``<split>`` ``train``, ``val`` and ``test``. To read another layout, convert
the release into this one or change the arguments: ``split_dirs`` (folder of each
split), ``series_file`` / ``dates_file`` / ``mask_file`` (names inside a tile folder,
with ``{tile}`` for the tile id, e.g. ``'{tile}_s1.tif'``; ``.npy`` files are read as
NumPy arrays, anything else with GDAL) and ``series_axes`` / ``mask_axes`` (the
stored axes of ``.npy`` arrays, e.g. ``'TCHW'``, ``'THWC'``, ``'HW'``, ``'CHW'``).
``dates_file`` may also be a ``.csv`` whose first column holds the dates (a header
line is skipped).

Every sample has the modality ``s1`` (bands ``VV``, ``VH``; the dates of
``dates_file``) and the label map ``gt_seg_map``. The tiles are not geo-referenced
here (no ``geo``).
"""
import glob
import os.path as osp

from eofm.registry import DATASETS
from .geo_io import parse_date
from .multimodal_dataset import OfficialLayoutDataset

__all__ = ['BraDDS1TS', 'BRADD_CLASSES']

BRADD_CLASSES = ('no deforestation', 'deforestation')


@DATASETS.register_module()
class BraDDS1TS(OfficialLayoutDataset):
    """BraDD-S1TS deforestation segmentation, assumed layout (see the module doc).

    Args:
        split (str): 'train', 'val' or 'test'.
        split_dirs (dict): Split -> folder relative to ``data_root``.
        series_file (str): The S1 series inside a tile folder (``{tile}``: id).
        dates_file (str): Its dates (text, one per line, or CSV, first column).
        mask_file (str): The label mask.
        series_axes (str, optional): Stored axes of a ``.npy`` series (None:
            canonical (T, C, H, W)).
        mask_axes (str, optional): Stored axes of a ``.npy`` mask ('HW' default;
            None: canonical (C, H, W)).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=BRADD_CLASSES)

    def __init__(self,
                 split='train',
                 split_dirs=dict(train='train', val='val', test='test'),
                 series_file='s1.npy',
                 dates_file='dates.txt',
                 mask_file='mask.npy',
                 series_axes=None,
                 mask_axes='HW',
                 **kwargs):
        if split not in split_dirs:
            raise ValueError(f'BraDDS1TS: split must be one of {sorted(split_dirs)}, '
                             f'got {split!r}')
        self.split = split
        self.split_dir = split_dirs[split]
        self.series_file, self.dates_file = series_file, dates_file
        self.mask_file = mask_file
        self.series_axes, self.mask_axes = series_axes, mask_axes
        self.LAYOUT = (f'(assumed layout) {self.split_dir}/<tile_id>/{series_file}, '
                       f'{dates_file} and {mask_file}; see eofm.datasets.bradd_s1ts '
                       'to adapt it')
        super().__init__(**kwargs)

    @staticmethod
    def _source(rel, axes):
        desc = dict(path=rel)
        if rel.endswith('.npy'):
            desc['format'] = 'npy'
            if axes:
                desc['axes'] = axes
        return desc

    def _read_dates(self, rel, tile):
        path = self.root(rel)
        if not osp.isfile(path):
            raise self.layout_error(f'tile {tile} has no dates file "{path}"')
        with open(path, encoding='utf-8') as f:
            fields = [line.split(',')[0].strip() for line in f]
        fields = [v for v in fields if v]
        if fields and rel.endswith('.csv') and not fields[0][:1].isdigit():
            fields = fields[1:]  # header
        if not fields:
            raise ValueError(f'{path}: no dates (expected one YYYY-MM-DD per line)')
        return [
            parse_date(v, f'{path}, line {i + 1}').isoformat()
            for i, v in enumerate(fields)
        ]

    def scan(self):
        folder = self.require_dir(self.split_dir, f'{self.split} split')
        tiles = sorted(
            osp.basename(p) for p in glob.glob(osp.join(folder, '*')) if osp.isdir(p))
        raws = []
        for tile in tiles:
            rels = {
                key: osp.join(self.split_dir, tile, name.format(tile=tile))
                for key, name in (('series', self.series_file),
                                  ('dates', self.dates_file), ('mask', self.mask_file))
            }
            for key in ('series', 'mask'):
                if not osp.isfile(self.root(rels[key])):
                    raise self.layout_error(
                        f'tile {tile} has no {key} file "{self.root(rels[key])}"')
            s1 = self._source(rels['series'], self.series_axes)
            s1.update(bands=['VV', 'VH'], dates=self._read_dates(rels['dates'], tile))
            raws.append(
                dict(
                    sample_id=tile,
                    modalities=dict(s1=s1),
                    label_maps=dict(
                        gt_seg_map=self._source(rels['mask'], self.mask_axes))))
        return raws
