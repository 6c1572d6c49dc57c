# OmniSat fine-tuning on TreeSatAI-TS, uni-modal: the aerial image alone (NIR, G, B,
# R at 0.2 m, 36 patches of 50 x 50 px).
# Paper, Table 2 (weighted F1, pretrained): 70.5 (10 % labels: 58.3); without
# pretraining 71.0 (51.4).
_base_ = ['./omnisat-mm_linear_3xb128-200e_treesatai-ts-60m.py']
used = ['aerial']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='aerial',
    modalities=dict(aerial=dict(gsd=0.2)))
train_pipeline = [
    load, _base_.crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
test_pipeline = [
    load, _base_.crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(backbone=dict(modalities=tuple(used)))
