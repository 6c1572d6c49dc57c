# OmniSat fine-tuning on TreeSatAI-TS, uni-modal: the ascending Sentinel-1 series
# alone (VV, VH, up to 50 dates).
# Paper, Table 2 (weighted F1, pretrained): 56.7 (10 % labels: 48.2); without
# pretraining 55.9 (31.6). The aerial image is still read for the tile footprint
# (reference='aerial') but not packed.
_base_ = ['./omnisat-mm_linear_3xb128-200e_treesatai-ts-60m.py']
used = ['s1_asc']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='aerial',
    modalities=dict(aerial=dict(gsd=0.2), s1_asc=dict()))
train_sample = dict(
    type='eofm.TemporalSample', lengths=dict(s1_asc=_base_.num_dates), mode='random')
test_sample = dict(
    type='eofm.TemporalSample', lengths=dict(s1_asc=_base_.num_dates), mode='even')
train_pipeline = [
    load, train_sample, _base_.crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
test_pipeline = [
    load, test_sample, _base_.crop,
    dict(type='eofm.PackMultiModalInputs', modalities=used)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(backbone=dict(modalities=tuple(used)))
