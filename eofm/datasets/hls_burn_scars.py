"""HLS Burn Scars in its official layout.

HLS Burn Scars (Phillips et al., "HLS Foundation Burnscars Dataset", NASA / IBM,
2023; the fine-tuning set of Prithvi-100M): 804 scenes of 512 x 512 px at 30 m
(15,360 m) from Harmonized Landsat-Sentinel-2 (HLS) over the contiguous United
States, 2018-2021, with burn-scar masks. The release extracts to::

    training/subsetted_512x512_HLS.S30.<tile>.<YYYYDDD>.v1.4_merged.tif
    training/subsetted_512x512_HLS.S30.<tile>.<YYYYDDD>.v1.4.mask.tif
    validation/...   (the same; the validation set is also the test set)

The ``_merged.tif`` images have 6 bands (Blue, Green, Red, NIR narrow, SWIR 1,
SWIR 2: HLS B02, B03, B04, B8A, B11, B12 for S30 and B02-B07 for L30) of surface
reflectance; the masks have one band (1 burn scar, 0 not burned, -1 no data).
The release names the masks ``<stem>.mask.tif``; ``<stem>_mask.tif`` (as some
copies name them) is accepted too (``mask_suffixes``). The acquisition date is the
year and day of year of the name (``2018190`` = 9 July 2018).

Every sample has the modality ``hls`` as a one-date series (bands :data:`HLS_BANDS`,
its date from the name), the label map ``gt_seg_map`` and ``geo`` from the
geo-referenced GeoTIFF.
"""
import datetime
import glob
import os.path as osp
import re

from eofm.registry import DATASETS
from .multimodal_dataset import OfficialLayoutDataset

__all__ = ['HLSBurnScars', 'HLS_BANDS', 'HLS_BURN_SCARS_CLASSES', 'hls_date']

HLS_BURN_SCARS_CLASSES = ('not burned', 'burn scar')
HLS_BANDS = ('Blue', 'Green', 'Red', 'NIR', 'SWIR1', 'SWIR2')
SPLIT_DIRS = dict(train='training', val='validation', test='validation')
IMAGE_SUFFIX = '_merged.tif'
_NAME_RE = re.compile(r'HLS\.[SL]30\.(T?\w+?)\.(\d{4})(\d{3})\.')


def hls_date(name):
    """The ISO date of an HLS file name (``...HLS.S30.T10SEH.2018190.v1.4...``)."""
    m = _NAME_RE.search(osp.basename(name))
    if m is None:
        raise ValueError(f'{name}: expected an HLS name with '
                         '"HLS.<S30|L30>.<tile>.<YYYYDDD>."')
    year, doy = int(m.group(2)), int(m.group(3))
    if not 1 <= doy <= 366:
        raise ValueError(f'{name}: day of year {doy} is not in 1-366')
    return (datetime.date(year, 1, 1) + datetime.timedelta(days=doy - 1)).isoformat()


@DATASETS.register_module()
class HLSBurnScars(OfficialLayoutDataset):
    """HLS Burn Scars segmentation (see the module doc).

    Args:
        split (str): 'train' (``training/``), 'val' or 'test' (both
            ``validation/``). Ignored when ``img_dir`` is given.
        img_dir (str, optional): Folder of the images and masks, relative to
            ``data_root``.
        mask_suffixes (Sequence[str]): Mask names tried, in order, after the
            image's stem (the name without ``_merged.tif``).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=HLS_BURN_SCARS_CLASSES)
    LAYOUT = ('{training,validation}/subsetted_512x512_HLS.S30.<tile>.<YYYYDDD>.v1.4'
              '_merged.tif with <stem>.mask.tif (or <stem>_mask.tif) beside it')

    def __init__(self,
                 split='train',
                 img_dir=None,
                 mask_suffixes=('.mask.tif', '_mask.tif'),
                 **kwargs):
        if img_dir is None and split not in SPLIT_DIRS:
            raise ValueError(f"HLSBurnScars: split must be 'train', 'val' or 'test', "
                             f'got {split!r}')
        self.split = split
        self.img_dir = img_dir or SPLIT_DIRS[split]
        self.mask_suffixes = tuple(mask_suffixes)
        super().__init__(**kwargs)

    def _mask(self, stem):
        for suffix in self.mask_suffixes:
            rel = osp.join(self.img_dir, stem + suffix)
            if osp.isfile(self.root(rel)):
                return rel
        raise self.layout_error(
            f'image "{self.root(self.img_dir, stem + IMAGE_SUFFIX)}" has no mask '
            f'(tried {[stem + s for s in self.mask_suffixes]})')

    def scan(self):
        folder = self.require_dir(self.img_dir, f'{self.split} image')
        raws = []
        for path in sorted(glob.glob(osp.join(folder, '*' + IMAGE_SUFFIX))):
            name = osp.basename(path)
            stem = name[:-len(IMAGE_SUFFIX)]
            raws.append(
                dict(
                    sample_id=stem,
                    modalities=dict(
                        hls=dict(
                            path=osp.join(self.img_dir, name),
                            bands=list(HLS_BANDS),
                            dates=[hls_date(path)])),
                    label_maps=dict(gt_seg_map=dict(path=self._mask(stem)))))
        return raws
