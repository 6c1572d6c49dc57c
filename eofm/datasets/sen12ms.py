"""SEN12MS and SEN12MS-CR in their official layouts.

SEN12MS (Schmitt et al., "SEN12MS - A Curated Dataset of Georeferenced Multi-Spectral
Sentinel-1/2 Imagery for Deep Learning and Data Fusion", ISPRS Annals 2019): 180,662
triplets of 256 x 256 px patches at 10 m, over 252 scenes ("ROIs") in four seasons:
Sentinel-1 (VV, VH, dB), Sentinel-2 L1C (13 bands, DN) and MODIS land cover (4
layers; the first is IGBP, classes 1-17). The archives extract to::

    ROIs1158_spring/s1_1/ROIs1158_spring_s1_1_p30.tif
    ROIs1158_spring/s2_1/ROIs1158_spring_s2_1_p30.tif
    ROIs1158_spring/lc_1/ROIs1158_spring_lc_1_p30.tif
    ROIs1868_summer/..., ROIs1970_fall/..., ROIs2017_winter/...

Splits are text lists (``splits/train_list.txt``, ``test_list.txt`` of the SEN12MS
repository: one patch file name per line, e.g. ``ROIs1158_spring_s2_124_p100.tif``;
scene lists such as ``SEN12MS_holdOutScenes.txt`` with ``ROIs1158_spring/s1_63``
lines work too). Labels: the "simplified IGBP" scheme of the IEEE GRSS Data Fusion
Contest 2020 (10 classes, :data:`IGBP_TO_SIMPLIFIED`), 255 for no data.

SEN12MS-CR (Ebel et al., "Multisensor Data Fusion for Cloud Removal in Global and
All-Season Sentinel-2 Imagery", IEEE TGRS 2021) adds a cloudy Sentinel-2 patch to
every S1/S2 pair, one folder per season and source::

    ROIs1158_spring_s1/s1_1/ROIs1158_spring_s1_1_p30.tif
    ROIs1158_spring_s2/s2_1/ROIs1158_spring_s2_1_p30.tif
    ROIs1158_spring_s2_cloudy/s2_cloudy_1/ROIs1158_spring_s2_cloudy_1_p30.tif

Modalities ``s1``, ``s2`` (cloud-free) and, for SEN12MS-CR, ``s2_cloudy``; label
``gt_seg_map`` (SEN12MS, from the ``lc`` patch).
"""
import glob
import os.path as osp
import re

from eofm.registry import DATASETS
from .multimodal_dataset import S2_BANDS, OfficialLayoutDataset

__all__ = ['SEN12MS', 'SEN12MSCR', 'SEN12MS_CLASSES']

SEASONS = ('ROIs1158_spring', 'ROIs1868_summer', 'ROIs1970_fall', 'ROIs2017_winter')
SEN12MS_CLASSES = ('forest', 'shrubland', 'savanna', 'grassland', 'wetlands',
                   'croplands', 'urban/built-up', 'snow/ice', 'barren', 'water')
# IGBP value (0-17) -> simplified class index (0-9), 255 for no data: the DFC 2020
# table [0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 6, 8, 9, 10] minus one.
IGBP_TO_SIMPLIFIED = (255, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 5, 7, 8, 9)

_SOURCES = r'(?:s1|s2|lc|s2_cloudy)'
_SEASON_RE = re.compile(r'(ROIs\d+_[a-z]+)')
_PATCH_RE = re.compile(rf'^(ROIs\d+_[a-z]+)_{_SOURCES}_(\d+)_p(\d+)(?:\.tif)?$')
_SCENE_RE = re.compile(rf'^(ROIs\d+_[a-z]+)(?:_{_SOURCES})?/{_SOURCES}_(\d+)/?$')


def read_patch_list(path):
    """(patch keys, scene keys) of a SEN12MS list file.

    A patch key is (season, scene, patch) from a file name line, a scene key
    (season, scene) from a ``<season>[_<source>]/<source>_<scene>`` line.
    """
    patches, scenes = set(), set()
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(l.strip() for l in f):
            if not line:
                continue
            m = _PATCH_RE.match(osp.basename(line))
            if m:
                patches.add((m.group(1), int(m.group(2)), int(m.group(3))))
                continue
            m = _SCENE_RE.match(line)
            if m is None:
                raise ValueError(f'{path}: line {i + 1}: {line!r} is neither a patch '
                                 '(ROIs1158_spring_s2_1_p30.tif) nor a scene '
                                 '(ROIs1158_spring/s1_1)')
            scenes.add((m.group(1), int(m.group(2))))
    return patches, scenes


@DATASETS.register_module()
class SEN12MS(OfficialLayoutDataset):
    """SEN12MS: S1/S2 patches with simplified-IGBP land-cover maps (module doc).

    Args:
        seasons (Sequence[str], optional): Seasons to read (of
            :data:`SEASONS`); every season folder found when None.
        split_file (str, optional): Patch or scene list of the split, relative to
            ``data_root``; every patch of ``seasons`` when None.
        exclude_files (Sequence[str]): Patch or scene lists to leave out.
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=SEN12MS_CLASSES)
    SOURCES = ('s1', 's2', 'lc')
    LAYOUT = ('<season>/<source>_<scene>/<season>_<source>_<scene>_p<patch>.tif for '
              'sources s1, s2, lc (seasons ROIs1158_spring ... ROIs2017_winter)')

    def __init__(self, seasons=None, split_file=None, exclude_files=(), **kwargs):
        self.seasons = None if seasons is None else list(seasons)
        self.split_file = split_file
        self.exclude_files = list(exclude_files)
        super().__init__(**kwargs)

    def _source_dir(self, season, source):
        """The season folder of a source: ``<season>_<source>`` (SEN12MS-CR) or
        ``<season>`` (SEN12MS)."""
        for rel in (f'{season}_{source}', season):
            if glob.glob(osp.join(self.root(rel), f'{source}_*')):
                return rel
        raise self.layout_error(f'no {source}_<scene> folders in "{self.root(season)}"'
                                f' or "{self.root(season)}_{source}"')

    def _list(self, rel):
        path = self.root(rel)
        if not osp.isfile(path):
            raise self.layout_error(f'patch list "{path}" does not exist')
        return read_patch_list(path)

    def _selected(self, key, lists):
        patches, scenes = lists
        return key in patches or key[:2] in scenes

    def _keep(self, key, split, excluded):
        in_split = split is None or self._selected(key, split)
        return in_split and not any(self._selected(key, e) for e in excluded)

    def _sample(self, season, scene, patch, dirs):
        paths = {
            src:
            osp.join(dirs[src], f'{src}_{scene}',
                     f'{season}_{src}_{scene}_p{patch}.tif')
            for src in self.SOURCES
        }
        mods = dict(
            s1=dict(path=paths['s1'], bands=['VV', 'VH']),
            s2=dict(path=paths['s2'], bands=list(S2_BANDS)))
        raw = dict(
            sample_id=f'{season}_{scene}_p{patch}', season=season, modalities=mods)
        if 'lc' in paths:
            raw['label_maps'] = dict(gt_seg_map=dict(path=paths['lc'], band=0))
        if 's2_cloudy' in paths:
            mods['s2_cloudy'] = dict(path=paths['s2_cloudy'], bands=list(S2_BANDS))
        return raw

    def _seasons(self):
        if self.seasons is not None:
            return self.seasons
        names = (osp.basename(p) for p in glob.glob(self.root('ROIs*')) if osp.isdir(p))
        return sorted({m.group(1) for m in map(_SEASON_RE.match, names) if m})

    def _patch_keys(self, season, s2_dir):
        """(scene, patch) of every S2 patch file of a season."""
        pattern = osp.join(self.root(s2_dir), 's2_*', f'{season}_s2_*_p*.tif')
        keys = []
        for path in glob.glob(pattern):
            m = _PATCH_RE.match(osp.basename(path))
            if m:
                keys.append((int(m.group(2)), int(m.group(3))))
        return sorted(keys)

    def _lists(self):
        """The split's (patches, scenes), None for all, and the excluded ones."""
        split = None if self.split_file is None else self._list(self.split_file)
        return split, [self._list(rel) for rel in self.exclude_files]

    def scan(self):
        split, excluded = self._lists()
        raws = []
        for season in self._seasons():
            dirs = {src: self._source_dir(season, src) for src in self.SOURCES}
            checked = set()
            for scene, patch in self._patch_keys(season, dirs['s2']):
                if not self._keep((season, scene, patch), split, excluded):
                    continue
                if scene not in checked:
                    for src in self.SOURCES:
                        folder = self.root(dirs[src], f'{src}_{scene}')
                        if not osp.isdir(folder):
                            raise self.layout_error(
                                f'scene folder "{folder}" does not exist ({season} '
                                f'scene {scene} has S2 patches but no {src})')
                    checked.add(scene)
                raws.append(self._sample(season, scene, patch, dirs))
        return raws


# The validation and test scenes of the SEN12MS-CR reference data loader.
_CR_SPLITS = dict(
    val={
        'ROIs1158_spring': (17, ),
        'ROIs1868_summer': (17, 19, 80, 127),
        'ROIs1970_fall': (65, ),
        'ROIs2017_winter': (22, 84, 107, 130)
    },
    test={
        'ROIs1158_spring': (31, 44, 106, 123, 140),
        'ROIs1868_summer': (73, 119),
        'ROIs1970_fall': (139, ),
        'ROIs2017_winter': (63, 108)
    })


def _cr_scenes(*names):
    """(patches, scenes) lists of SEN12MS-CR reference splits."""
    return set(), {(season, n)
                   for name in names
                   for season, nums in _CR_SPLITS[name].items()
                   for n in nums}


@DATASETS.register_module()
class SEN12MSCR(SEN12MS):
    """SEN12MS-CR: S1, cloud-free S2 and cloudy S2 (``s2_cloudy``) triplets.

    Args:
        split (str): 'train', 'val', 'test' or 'all'. 'val' and 'test' are the 10
            + 10 scenes of the reference loader, 'train' every other scene.
            Ignored when ``split_file`` is given.
        **kwargs: :class:`SEN12MS` arguments.
    """

    METAINFO = dict(classes=())
    SOURCES = ('s1', 's2', 's2_cloudy')
    LAYOUT = ('<season>_<source>/<source>_<scene>/<season>_<source>_<scene>_p<patch>'
              '.tif for sources s1, s2, s2_cloudy')

    def __init__(self, split='train', **kwargs):
        if split not in ('train', 'val', 'test', 'all'):
            raise ValueError(f"SEN12MSCR: split must be 'train', 'val', 'test' or "
                             f"'all', got {split!r}")
        self.split = split
        super().__init__(**kwargs)

    def _lists(self):
        split, excluded = super()._lists()
        if self.split_file is None and self.split != 'all':
            if self.split == 'train':
                excluded.append(_cr_scenes('val', 'test'))
            else:
                split = _cr_scenes(self.split)
        return split, excluded
