# OmniSat fine-tuning on FLAIR #2, uni-modal: the Sentinel-2 series alone (10 bands,
# up to 50 dates, the 10 x 10 px around the patch). The aerial image is still read
# (labels, the patch footprint) but not packed.
# Paper, Table 4 (macro F1, pretrained on FLAIR): 65.4 (10 % labels: 56.8); without
# pretraining 65.4 (56.1).
_base_ = ['./omnisat-mm_linear_3xb128-200e_flair-100m.py']
used = ['s2']
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = _base_.train_pipeline[:-1] + [pack]
test_pipeline = _base_.test_pipeline[:-1] + [pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
model = dict(backbone=dict(modalities=tuple(used)))
