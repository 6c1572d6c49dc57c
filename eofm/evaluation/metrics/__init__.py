from .change_detection import (ChangeDetectionMetric, SemanticChangeMetric,
                               binary_change_scores, semantic_change_score)
from .classification import WeightedMultiLabelMetric, support_weighted
from .fair1m import (FAIR1MMetric, fair1m_xml, merge_patch_predictions, parse_patch_id,
                     write_fair1m_submission)
from .image_restoration import ImageRestorationMetric, psnr, spectral_angle, ssim
from .segmentation import ClassSubsetIoUMetric, FoldAccuracyMetric, fold_scores

__all__ = [
    'WeightedMultiLabelMetric', 'support_weighted', 'ImageRestorationMetric', 'psnr',
    'spectral_angle', 'ssim', 'ClassSubsetIoUMetric', 'FoldAccuracyMetric',
    'fold_scores', 'ChangeDetectionMetric', 'SemanticChangeMetric',
    'binary_change_scores', 'semantic_change_score', 'FAIR1MMetric', 'fair1m_xml',
    'merge_patch_predictions', 'parse_patch_id', 'write_fair1m_submission'
]
