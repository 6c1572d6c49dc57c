"""A derived modality: the NDVI series of a Sentinel-2 series."""
import numpy as np
from mmcv.transforms import BaseTransform

from eofm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ExampleAddNDVI(BaseTransform):
    """Add ``results['ndvi']`` (T, 1, H, W) = (NIR - red) / (NIR + red) of a series.

    Run after :class:`eofm.LoadMultiModalTiles` (and temporal sampling) and before
    packing. The new modality carries the source's validity mask (``ndvi_mask``),
    days of year and dates, so the data preprocessor batches it like any other.

    Args:
        source (str): The Sentinel-2 modality. Default 's2'.
        red (int), nir (int): Band indices of red and NIR in the loaded series
            (eofm's sample data: B4 is 2, B8 is 6).
        key (str): Name of the new modality. Default 'ndvi'.
    """

    def __init__(self, source='s2', red=2, nir=6, key='ndvi'):
        self.source, self.red, self.nir, self.key = source, red, nir, key

    def transform(self, results):
        if self.source not in results:
            raise KeyError(f'ExampleAddNDVI: modality {self.source!r} is not loaded '
                           f'(keys: {sorted(results)})')
        x = results[self.source]
        if x.ndim != 4 or max(self.red, self.nir) >= x.shape[1]:
            raise ValueError(f'ExampleAddNDVI: {self.source} must be (T, C, H, W) with '
                             f'bands {self.red} and {self.nir}, got {x.shape}')
        red, nir = x[:, self.red], x[:, self.nir]
        total = nir + red
        ndvi = np.where(np.abs(total) > 1e-6, (nir - red) / np.where(
            np.abs(total) > 1e-6, total, 1.0), 0.0).astype(np.float32)
        results[self.key] = ndvi[:, None]
        for suffix in ('_mask', '_doy', '_dates'):
            if self.source + suffix in results:
                results[self.key + suffix] = results[self.source + suffix]
        return results
