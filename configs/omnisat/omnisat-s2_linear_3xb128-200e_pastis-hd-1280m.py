# OmniSat fine-tuning on PASTIS-HD, uni-modal: the Sentinel-2 series alone (10 bands,
# up to 50 dates, 4 x 4 px per 40 m patch).
# Paper, Table 3 (macro F1, pretrained on PASTIS-HD): 70.8 (20 % labels: 61.8);
# without pretraining 60.1 (51.7).
_base_ = ['./omnisat-mm_linear_3xb128-200e_pastis-hd-1280m.py']
used = ['s2']
load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(s2=dict(scale='reflectance')),
    label_maps=dict(gt_seg_map=dict(like='s2')))
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = [load, _base_.train_sample, _base_.remap, _base_.to_multilabel, pack]
test_pipeline = [load, _base_.test_sample, _base_.remap, _base_.to_multilabel, pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(backbone=dict(modalities=tuple(used)))
