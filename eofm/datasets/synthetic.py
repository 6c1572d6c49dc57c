"""Generated in-memory datasets for smoke tests of the training tools."""
import numpy as np
from mmengine.dataset import BaseDataset

from eofm.registry import DATASETS


@DATASETS.register_module()
class SyntheticClassificationDataset(BaseDataset):
    """Deterministic multispectral image classification data made in memory.

    Sample ``i`` has class ``i % num_classes``; its image is the class's spectral
    signature (one mean per band, drawn from ``signature_seed``, so that splits made
    with different ``seed`` share the classes) plus Gaussian noise of
    standard deviation ``noise`` and a smooth spatial pattern, so a small model can
    learn it in a few iterations. Items carry ``img`` (H, W, C float32) and
    ``gt_label``, as mmpretrain's ``PackInputs`` expects.

    Args:
        num_samples (int): Number of samples. Defaults to 64.
        num_classes (int): Number of classes. Defaults to 4.
        in_channels (int): Bands per image. Defaults to 4.
        img_size (int): Height and width. Defaults to 32.
        noise (float): Noise standard deviation. Defaults to 0.5.
        seed (int): Seed of the samples (noise and patterns). Defaults to 0.
        signature_seed (int): Seed of the class signatures. Defaults to 0.
        pipeline (list): Transforms. Defaults to ``[]``.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 num_samples=64,
                 num_classes=4,
                 in_channels=4,
                 img_size=32,
                 noise=0.5,
                 seed=0,
                 signature_seed=0,
                 pipeline=(),
                 **kwargs):
        if num_samples < 1 or num_classes < 1 or in_channels < 1 or img_size < 1:
            raise ValueError(
                'SyntheticClassificationDataset: num_samples, num_classes, '
                'in_channels and img_size must be positive')
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.img_size = img_size
        self.noise = noise
        self.seed = seed
        self.signature_seed = signature_seed
        metainfo = dict(classes=tuple(f'class_{k}' for k in range(num_classes)))
        super().__init__(
            ann_file='', metainfo=metainfo, pipeline=list(pipeline), **kwargs)

    def load_data_list(self):
        sig_rng = np.random.default_rng(self.signature_seed)
        signatures = sig_rng.uniform(-1, 1, size=(self.num_classes, self.in_channels))
        yy, xx = np.mgrid[0:self.img_size, 0:self.img_size] / max(self.img_size - 1, 1)
        data_list = []
        for i in range(self.num_samples):
            label = i % self.num_classes
            rng = np.random.default_rng((self.seed, i))
            phase = rng.uniform(0, 2 * np.pi)
            pattern = 0.3 * np.sin(2 * np.pi * (xx + yy) + phase)
            img = signatures[label][None, None, :] + pattern[..., None] \
                + self.noise * rng.standard_normal(
                    (self.img_size, self.img_size, self.in_channels))
            data_list.append(
                dict(img=img.astype(np.float32), gt_label=label, sample_idx=i))
        return data_list
