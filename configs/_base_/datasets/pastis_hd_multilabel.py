# PASTIS-HD as OmniSat reads it (Astruc et al., ECCV 2024, Sec. 4.1; reference
# src/data/Pastis.py): multi-label classification of the 1280 m tiles, "each patch is
# associated with the labels of all of its pixels": the multi-hot of the crop types
# present in the semantic channel of TARGET_{id}.npy, background (0) and void (19)
# left out, 18 classes. Modalities: the SPOT 6-7 image (spot, R, G, B at 1 m, 1280 x
# 1280 px, 8 bit scaled to [0, 1]), the Sentinel-2 series (10 bands) and the
# ascending Sentinel-1 series (VV, VH, VV/VH; the paper uses the ascending orbit
# only), up to 50 dates each (random in training, evenly spread in testing; the
# reference draws 50 at random everywhere); folds 1-3 train, 4 validate, 5 test.
# Layout: configs/_base_/datasets/pastis_hd.py.
_base_ = ['./pastis_hd.py']
num_classes = 18
num_dates = 50
used = ['spot', 's2', 's1_asc']
load_cfgs = dict(s2=dict(scale='reflectance'), s1_asc=dict(), spot=dict(scale='uint8'))
load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=load_cfgs,
    label_maps=dict(gt_seg_map=dict(like='s2')))
series_lengths = dict(s2=num_dates, s1_asc=num_dates)
train_sample = dict(type='eofm.TemporalSample', lengths=series_lengths, mode='random')
test_sample = dict(type='eofm.TemporalSample', lengths=series_lengths, mode='even')
# TARGET value -> class index: 1-18 -> 0-17; background 0 and void 19 -> 255 (ignored)
remap = dict(
    type='eofm.RemapLabelMap',
    key='gt_seg_map',
    lut=[255, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 255],
    default=255)
to_multilabel = dict(
    type='eofm.SegMapToMultiLabel', num_classes=num_classes, ignore_index=255)
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = [load, train_sample, remap, to_multilabel, pack]
test_pipeline = [load, test_sample, remap, to_multilabel, pack]
# Self-supervised pretraining reads no labels.
pretrain_pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=load_cfgs), train_sample, pack
]
# Sentinel statistics of the release (configs/_base_/datasets/pastis.py, pastis_r.py);
# SPOT as stored, scaled to [0, 1] (the release gives no statistics; the reference
# feeds the raw values).
normalize_used = dict(s2={{_base_.normalize.s2}}, s1_asc={{_base_.normalize.s1_asc}})

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
