"""SpaceNet-2 (SpaceNet Buildings Round 2) for pan-sharpening.

SpaceNet-2 (Van Etten et al., "SpaceNet: A Remote Sensing Dataset and Challenge
Series", 2018) holds WorldView-3 tiles of 200 x 200 m over Las Vegas, Paris,
Shanghai and Khartoum, each as a panchromatic image (``PAN``, 1 band, 0.3 m, 650 x
650 px), the 8-band multispectral image (``MUL``, 1.24 m, about 163 x 163 px) and
the vendor's pan-sharpened 8-band image (``MUL-PanSharpen``, 0.3 m, 650 x 650 px),
all 16-bit GeoTIFFs holding 11-bit digital numbers, geo-referenced in WGS84. The
public archives extract to one folder per area of interest (AOI)::

    AOI_2_Vegas_Train/PAN/PAN_AOI_2_Vegas_img1.tif
    AOI_2_Vegas_Train/MUL/MUL_AOI_2_Vegas_img1.tif
    AOI_2_Vegas_Train/MUL-PanSharpen/MUL-PanSharpen_AOI_2_Vegas_img1.tif
    AOI_3_Paris_Train/..., AOI_4_Shanghai_Train/..., AOI_5_Khartoum_Train/...
    (also RGB-PanSharpen/, geojson/ and summaryData/, not used here; the
    AOI_*_Test_public folders have the same three image folders)

Pan-sharpening (msGFM, Han et al., CVPR 2024, Sec. 4.2.3 and Table 3): the inputs
are the panchromatic image ``pan`` and the low-resolution multispectral image
``ms`` (read on the panchromatic grid by :class:`eofm.LoadMultiModalTiles`, i.e.
bilinearly upsampled 4x), the target the pan-sharpened multispectral image
``pansharpen`` (scored with PSNR and SSIM). Every sample is one image number of one
AOI folder; every one of the three files must exist.

Splits: SpaceNet-2 publishes no labelled validation split and the paper gives none.
``split='val'`` is every ``val_interval``-th image of each AOI folder (sorted by
image number, the last of each group of ``val_interval``), ``'train'`` the others,
``'all'`` everything; ``split_file`` (one image id such as ``AOI_2_Vegas_img1`` per
line) overrides the split.

Images are 11-bit: read them with ``scale='uint11'`` (digital number / 2047, one of
:data:`eofm.datasets.transforms.SENSOR_SCALINGS`).
"""
import glob
import os.path as osp
import re

from eofm.registry import DATASETS
from .multimodal_dataset import OfficialLayoutDataset

__all__ = ['SpaceNet2PanSharpening', 'WV3_MS_BANDS']

# The eight WorldView-3 multispectral bands, in the order of the MUL files.
WV3_MS_BANDS = ('coastal', 'blue', 'green', 'yellow', 'red', 'red_edge', 'nir1', 'nir2')

_PAN_RE = re.compile(r'^PAN_(AOI_\d+_[A-Za-z]+)_img(\d+)\.tif$', re.IGNORECASE)


@DATASETS.register_module()
class SpaceNet2PanSharpening(OfficialLayoutDataset):
    """SpaceNet-2 PAN + MUL -> MUL-PanSharpen samples (module doc).

    Args:
        split (str): 'train', 'val' or 'all' (see the module doc). Ignored when
            ``split_file`` is given.
        aois (Sequence[str], optional): AOI folders to read (e.g.
            ``['AOI_2_Vegas_Train']``); every ``AOI_*`` folder with a ``PAN``
            folder when None.
        val_interval (int): One image of every ``val_interval`` per AOI folder is
            a validation image.
        split_file (str, optional): Image ids (``AOI_2_Vegas_img1``) of the split,
            one per line, relative to ``data_root``.
        **kwargs: :class:`MultiModalDataset` arguments.

    Sample modalities: ``pan`` (band ``PAN``), ``ms`` and ``pansharpen`` (bands
    :data:`WV3_MS_BANDS`); ``sample_id`` is ``<AOI>_img<n>``, ``aoi_folder`` the
    folder it was found in.
    """

    METAINFO = dict(classes=())
    FOLDERS = dict(pan='PAN', ms='MUL', pansharpen='MUL-PanSharpen')
    LAYOUT = ('<AOI folder>/PAN/PAN_<AOI>_img<n>.tif, <AOI folder>/MUL/MUL_<AOI>_img<n>'
              '.tif and <AOI folder>/MUL-PanSharpen/MUL-PanSharpen_<AOI>_img<n>.tif '
              '(AOI folders such as AOI_2_Vegas_Train)')

    def __init__(self,
                 split='train',
                 aois=None,
                 val_interval=10,
                 split_file=None,
                 **kwargs):
        if split not in ('train', 'val', 'all'):
            raise ValueError("SpaceNet2PanSharpening: split must be 'train', 'val' or "
                             f"'all', got {split!r}")
        if int(val_interval) < 2:
            raise ValueError('SpaceNet2PanSharpening: val_interval must be >= 2, got '
                             f'{val_interval!r}')
        self.split = split
        self.aois = None if aois is None else list(aois)
        self.val_interval = int(val_interval)
        self.split_file = split_file
        super().__init__(**kwargs)

    def _aoi_folders(self):
        if self.aois is not None:
            for aoi in self.aois:
                self.require_dir(osp.join(aoi, 'PAN'), f'PAN folder of {aoi}')
            return self.aois
        found = glob.glob(self.root('AOI_*', 'PAN'))
        return sorted(osp.basename(osp.dirname(p)) for p in found if osp.isdir(p))

    def _images(self, folder):
        """(AOI, image number) of every PAN file of an AOI folder, by number."""
        keys = []
        for path in glob.glob(self.root(folder, 'PAN', 'PAN_*.tif')):
            m = _PAN_RE.match(osp.basename(path))
            if m:
                keys.append((m.group(1), int(m.group(2))))
        return sorted(keys, key=lambda k: (k[0], k[1]))

    def _selected(self, keys):
        if self.split_file is not None:
            wanted = {row[0] for row in self.read_rows(self.split_file, 'split file')}
            return [k for k in keys if f'{k[0]}_img{k[1]}' in wanted]
        if self.split == 'all':
            return keys
        is_val = [(i + 1) % self.val_interval == 0 for i in range(len(keys))]
        want_val = self.split == 'val'
        return [k for k, v in zip(keys, is_val) if v == want_val]

    def _sample(self, folder, aoi, num):
        mods = {}
        for name, sub in self.FOLDERS.items():
            rel = osp.join(folder, sub, f'{sub}_{aoi}_img{num}.tif')
            if not osp.isfile(self.root(rel)):
                raise self.layout_error(f'"{self.root(rel)}" does not exist (image '
                                        f'{aoi}_img{num} has a PAN file)')
            bands = ['PAN'] if name == 'pan' else list(WV3_MS_BANDS)
            mods[name] = dict(path=rel, bands=bands)
        return dict(sample_id=f'{aoi}_img{num}', aoi_folder=folder, modalities=mods)

    def scan(self):
        raws = []
        for folder in self._aoi_folders():
            for aoi, num in self._selected(self._images(folder)):
                raws.append(self._sample(folder, aoi, num))
        return raws
