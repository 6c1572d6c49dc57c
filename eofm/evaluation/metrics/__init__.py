from .change_detection import (ChangeDetectionMetric, SemanticChangeMetric,
                               binary_change_scores, semantic_change_score)
from .segmentation import ClassSubsetIoUMetric, FoldAccuracyMetric, fold_scores

__all__ = [
    'ClassSubsetIoUMetric', 'FoldAccuracyMetric', 'fold_scores',
    'ChangeDetectionMetric', 'SemanticChangeMetric', 'binary_change_scores',
    'semantic_change_score'
]
