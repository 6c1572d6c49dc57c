# OmniSat fine-tuning on TreeSatAI-TS, uni-modal: the Sentinel-2 series alone (10
# bands, up to 50 dates). The encoder keeps the S2 projector and the combining
# network of the multi-modal pretraining (the other projectors' weights are unused).
# Paper, Table 2 (weighted F1, pretrained): 62.9 (10 % labels: 51.4); without
# pretraining 49.7 (33.9). The aerial image is still read for the tile footprint
# (reference='aerial') but not packed.
_base_ = ['./omnisat-mm_linear_3xb128-200e_treesatai-ts-60m.py']
used = ['s2']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='aerial',
    modalities=dict(aerial=dict(gsd=0.2), s2=dict()))
train_sample = dict(
    type='eofm.TemporalSample', lengths=dict(s2=_base_.num_dates), mode='random')
test_sample = dict(
    type='eofm.TemporalSample', lengths=dict(s2=_base_.num_dates), mode='even')
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
