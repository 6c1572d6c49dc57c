# Semantic change segmentation on DynamicEarthNet-Sentinel2 (paper Table 2c, Dyna.-S2
# SCS 15.4 (val) / 18.0 (test); "maintaining the same setup as the segmentation
# task", supplementary K): the model and training of
# skysense-s2_upernet_4xb2-80k_dynamicearthnet-s2-256x256.py; the monthly predictions
# of each area are compared month to month by eofm.SemanticChangeMetric(series=True)
# (binary change IoU BC, semantic mIoU on changed pixels SC, SCS = (BC + SC) / 2).
# mIoU is reported beside it.
_base_ = ['./skysense-s2_upernet_4xb2-80k_dynamicearthnet-s2-256x256.py']

val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='eofm.SemanticChangeMetric', num_classes=7, series=True),
]
test_evaluator = val_evaluator
