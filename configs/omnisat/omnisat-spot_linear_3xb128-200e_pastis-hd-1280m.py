# OmniSat fine-tuning on PASTIS-HD, uni-modal: the SPOT 6-7 image alone ("VHR image";
# R, G, B at 1 m, 40 x 40 px per 40 m patch). The labels are read on the Sentinel-2
# grid of the annotation (128 x 128), as in the multi-modal configs.
# Paper, Table 3 (macro F1, pretrained on PASTIS-HD): 59.3 (20 % labels: 54.6);
# without pretraining 52.8 (47.3).
_base_ = ['./omnisat-mm_linear_3xb128-200e_pastis-hd-1280m.py']
used = ['spot']
load = dict(
    type='eofm.LoadMultiModalTiles',
    reference='spot',
    modalities=dict(spot=dict(scale='uint8')),
    label_maps=dict(gt_seg_map=dict(size=(128, 128))))
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = [load, _base_.remap, _base_.to_multilabel, pack]
test_pipeline = [load, _base_.remap, _base_.to_multilabel, pack]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(backbone=dict(modalities=tuple(used)))
