from .change_detection import (ChangeDetectionMetric, SemanticChangeMetric,
                               binary_change_scores, semantic_change_score)

__all__ = [
    'ChangeDetectionMetric', 'SemanticChangeMetric', 'binary_change_scores',
    'semantic_change_score'
]
