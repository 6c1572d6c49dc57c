# OmniSat fine-tuning on FLAIR #2, uni-modal: the aerial image alone ("VHR image";
# R, G, B, NIR, elevation at 0.2 m, 50 x 50 px per 10 m patch).
# Paper, Table 4 (macro F1, pretrained on FLAIR): 71.6 (10 % labels: 65.2); without
# pretraining 71.5 (64.7).
_base_ = ['./omnisat-mm_linear_3xb128-200e_flair-100m.py']
used = ['aerial']
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = [
    _base_.load_aerial, _base_.remap, _base_.to_multilabel, _base_.train_crop, pack
]
test_pipeline = [
    _base_.load_aerial, _base_.remap, _base_.to_multilabel, _base_.test_crop, pack
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(backbone=dict(modalities=tuple(used)))
