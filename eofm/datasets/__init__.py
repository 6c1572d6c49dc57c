"""Datasets, samplers and transforms for multi-modal EO data."""
from .bigearthnet import *  # noqa: F401,F403
from .bradd_s1ts import *  # noqa: F401,F403
from .change_detection import *  # noqa: F401,F403
from .collate import multimodal_collate
from .detection import *  # noqa: F401,F403
from .dynamic_earthnet import *  # noqa: F401,F403
from .flair import *  # noqa: F401,F403
from .fmow import *  # noqa: F401,F403
from .heterogeneous_sampler import HeterogeneousBatchSampler  # noqa: F401
from .hls_burn_scars import *  # noqa: F401,F403
from .multimodal_dataset import MultiModalDataset
from .nested import leaf_dataset_cfgs, override_data_root, override_dataset_cfg
from .pastis import *  # noqa: F401,F403
from .planted import *  # noqa: F401,F403
from .scene_classification import *  # noqa: F401,F403
from .sen1floods11 import *  # noqa: F401,F403
from .sen12ms import *  # noqa: F401,F403
from .sickle import *  # noqa: F401,F403
from .so2sat import *  # noqa: F401,F403
from .spacenet2 import *  # noqa: F401,F403
from .synthetic import SyntheticClassificationDataset
from .timesen2crop import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .treesatai import *  # noqa: F401,F403
from .vaihingen import *  # noqa: F401,F403

__all__ = [
    'MultiModalDataset', 'SyntheticClassificationDataset', 'multimodal_collate',
    'leaf_dataset_cfgs', 'override_data_root', 'override_dataset_cfg'
]
