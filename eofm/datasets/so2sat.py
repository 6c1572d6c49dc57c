"""So2Sat LCZ42 in its official HDF5 layout.

So2Sat LCZ42 (Zhu et al., "So2Sat LCZ42: A Benchmark Data Set for the Classification
of Global Local Climate Zones", IEEE Geoscience and Remote Sensing Magazine 8(3),
2020): co-registered Sentinel-1 / Sentinel-2 patches of 32 x 32 px at 10 m (320 m)
over 52 cities, each labelled with one of 17 local climate zones (LCZ 1-10 built
types, A-G land cover; :data:`SO2SAT_CLASSES`). The release is one HDF5 file per
split::

    training.h5     42 cities
    validation.h5   western half of 10 other cities
    testing.h5      eastern half of the same 10 cities (versions 2 and 3)

Each file holds three datasets with the samples on the first axis:

* ``sen1`` (N, 32, 32, 8) float64: Sentinel-1 SLC, in this order: real and
  imaginary part of the unfiltered VH, real and imaginary part of the unfiltered
  VV, intensity of the Lee-filtered VH, intensity of the Lee-filtered VV, real and
  imaginary part of the off-diagonal element of the Lee-filtered PolSAR covariance
  matrix (:data:`SEN1_BANDS`). Intensities are linear backscatter.
* ``sen2`` (N, 32, 32, 10) float64: Sentinel-2 B2, B3, B4, B5, B6, B7, B8, B8A, B11,
  B12 (:data:`SEN2_BANDS`), as reflectance: the digital numbers divided by 10,000
  (values around 0.1; the TensorFlow Datasets loader renders RGB as value x 3.5 x
  255), so no further scaling is applied.
* ``label`` (N, 17): one-hot LCZ labels.

A sample is one index ``i`` of the N axis: both modalities are read with the
``format='h5', key=..., axes='NHWC', index=i`` source options (only that sample's
bytes are read). Listing the samples reads N and the ``label`` dataset only; the
sample dicts are kept compact (id, label, index) and expanded when an item is
fetched.

Assumptions:

* Dates: So2Sat gives no acquisition dates (the patches come from 2016-2017
  Sentinel-1 scenes and Sentinel-2 seasonal composites). Both modalities are given
  as one-date series with the placeholder ``date`` (default 2017-07-01, day of year
  182) so that date-aware encoders (AnySat's time-series projectors) take them.
* Splits: ``split='train'`` / ``'val'`` / ``'test'`` read ``training.h5`` /
  ``validation.h5`` / ``testing.h5``; ``h5_file`` names another file (the version-3
  folders, e.g. ``culture_10/testing.h5``).
* No geo-referencing: the HDF5 files have no coordinates (``geo`` stays empty).
"""
import os.path as osp

import numpy as np

from eofm.registry import DATASETS
from .multimodal_dataset import MultiModalDataset, OfficialLayoutDataset

__all__ = ['So2SatLCZ42', 'SO2SAT_CLASSES', 'SEN1_BANDS', 'SEN2_BANDS']

# LCZ 1-10 (built types) then A-G (land cover), in the order of the one-hot labels.
SO2SAT_CLASSES = ('LCZ 1 compact high-rise', 'LCZ 2 compact mid-rise',
                  'LCZ 3 compact low-rise', 'LCZ 4 open high-rise',
                  'LCZ 5 open mid-rise', 'LCZ 6 open low-rise',
                  'LCZ 7 lightweight low-rise', 'LCZ 8 large low-rise',
                  'LCZ 9 sparsely built', 'LCZ 10 heavy industry', 'LCZ A dense trees',
                  'LCZ B scattered trees', 'LCZ C bush, scrub', 'LCZ D low plants',
                  'LCZ E bare rock or paved', 'LCZ F bare soil or sand', 'LCZ G water')
# Channel names of `sen1` (see the module doc).
SEN1_BANDS = ('VH_real', 'VH_imag', 'VV_real', 'VV_imag', 'VH_lee', 'VV_lee',
              'C12_lee_real', 'C12_lee_imag')
SEN2_BANDS = ('B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12')

SPLIT_FILES = dict(train='training.h5', val='validation.h5', test='testing.h5')


@DATASETS.register_module()
class So2SatLCZ42(OfficialLayoutDataset):
    """So2Sat LCZ42: one 32 x 32 px S1/S2 patch per sample, 17 LCZ classes.

    Modalities ``s2`` (10 bands, :data:`SEN2_BANDS`) and ``s1`` (8 channels,
    :data:`SEN1_BANDS`), each a one-date series; ``gt_label`` is the class index.

    Args:
        split (str): 'train', 'val' or 'test' (``training.h5``, ``validation.h5``,
            ``testing.h5``).
        h5_file (str, optional): The HDF5 file, relative to ``data_root``;
            overrides ``split``.
        date (str): Placeholder acquisition date of both modalities (the files
            have none).
        **kwargs: :class:`MultiModalDataset` arguments.
    """

    METAINFO = dict(classes=SO2SAT_CLASSES)
    LAYOUT = ('training.h5 / validation.h5 / testing.h5 with datasets sen1 (N, 32, '
              '32, 8), sen2 (N, 32, 32, 10) and label (N, 17) one-hot')

    def __init__(self, split='train', h5_file=None, date='2017-07-01', **kwargs):
        if h5_file is None and split not in SPLIT_FILES:
            raise ValueError(f'So2SatLCZ42: split must be one of {sorted(SPLIT_FILES)}'
                             f' (or give h5_file), got {split!r}')
        self.split = split
        self.h5_file = h5_file or SPLIT_FILES[split]
        self.date = date
        super().__init__(**kwargs)

    def _read_labels(self, path):
        """Class indices from ``label``; checks that ``sen1``/``sen2`` match."""
        import h5py
        try:
            f = h5py.File(path, 'r')
        except OSError as e:
            raise self.layout_error(f'"{path}" is not a readable HDF5 file ({e})')
        with f:
            missing = [k for k in ('sen1', 'sen2', 'label') if k not in f]
            if missing:
                raise self.layout_error(f'"{path}" has no dataset(s) {missing} (it has '
                                        f'{sorted(f.keys())})')
            label = f['label']
            n_cls = len(SO2SAT_CLASSES)
            if label.ndim != 2 or label.shape[1] != n_cls:
                raise self.layout_error(f'"{path}": label has shape {label.shape}, '
                                        f'expected (N, {n_cls}) one-hot')
            n = label.shape[0]
            for key, channels in (('sen1', len(SEN1_BANDS)), ('sen2', len(SEN2_BANDS))):
                shape = f[key].shape
                if len(shape) != 4 or shape[0] != n or shape[3] != channels:
                    raise self.layout_error(
                        f'"{path}": {key} has shape {shape}, expected ({n}, H, W, '
                        f'{channels}) (samples first, channels last)')
            onehot = np.asarray(label[()])
        hot = onehot > 0.5
        bad = np.nonzero(hot.sum(axis=1) != 1)[0]
        if len(bad):
            raise self.layout_error(f'"{path}": label row {int(bad[0])} is not one-hot '
                                    f'({onehot[bad[0]].tolist()})')
        return hot.argmax(axis=1)

    def scan(self):
        path = self.root(self.h5_file)
        if not osp.isfile(path):
            raise self.layout_error(f'HDF5 file "{path}" does not exist')
        labels = self._read_labels(path)
        stem = osp.splitext(osp.basename(self.h5_file))[0]
        return [
            dict(sample_id=f'{stem}_{i:06d}', index=i, gt_label=int(c))
            for i, c in enumerate(labels)
        ]

    def parse_data_info(self, raw_data_info):
        """Compact: the full description is built in :meth:`get_data_info`."""
        return raw_data_info

    def get_data_info(self, idx):
        info = super().get_data_info(idx)
        i, path = info['index'], self.h5_file
        common = dict(path=path, format='h5', axes='NHWC', index=i, dates=[self.date])
        info['modalities'] = dict(
            s2=dict(common, key='sen2', bands=list(SEN2_BANDS)),
            s1=dict(common, key='sen1', bands=list(SEN1_BANDS)))
        return MultiModalDataset.parse_data_info(self, info)
