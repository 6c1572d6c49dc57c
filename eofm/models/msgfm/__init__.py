"""msGFM (Han et al., CVPR 2024): shared Swin encoder with per-sensor patch
embeddings and Mixture-of-Experts MLPs, cross-sensor SimMIM pretraining."""
from .backbone import MsGFMMultiSensor, MsGFMSwin, single_date
from .moe import MoEMlp
from .pretrainer import MsGFM

__all__ = ['MoEMlp', 'MsGFM', 'MsGFMMultiSensor', 'MsGFMSwin', 'single_date']
