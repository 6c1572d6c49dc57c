# BigEarthNet 19-class multi-label classification from Sentinel-1 alone with msGFM,
# 100 % of the training split.
# Paper: Han et al., CVPR 2024, Fig. 4 compares S1, S2 and S1 + S2 inputs on 10 % BEN
# (the S1 values are only in the figure, not in the text): no number to reproduce.
# Everything as msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py except the input:
# VV, VH (dB) through the pretrained `s1` patch embedding itself; labels from the S2
# label files of the BigEarthNet-MM layout. For 10 % / 1 % set label_fraction and
# train_dataloader.dataset.split_file as the S1 + S2 fraction configs do.
# Weights: checkpoints/msgfm_swin-b.pth.
_base_ = ['./msgfm_linear_8xb32-100e_bigearthnet-s1s2-192px.py']
sensors = ['s1']
_load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(s1=dict(bands=['VV', 'VH'], scale='none', size=_base_.crop_size)))
train_pipeline = [
    _load,
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    dict(type='eofm.PackMultiModalInputs', modalities=sensors),
]
test_pipeline = [_load, dict(type='eofm.PackMultiModalInputs', modalities=sensors)]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(
    backbone=dict(sensors=sensors, stack_name='s1', band_index=dict(_delete_=True)))
