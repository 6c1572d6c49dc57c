# FLAIR #2 as OmniSat reads it (Astruc et al., ECCV 2024, Sec. 4.1; reference
# src/data/FLAIR.py): multi-label classification of the aerial patches, the multi-hot
# of the 13 classes present in the patch's mask (values 1-12 -> 0-11, 13-19 ->
# "other" 12), computed on the whole 512 px (102.4 m) mask as the reference.
# Modalities: the aerial image (R, G, B, NIR, elevation at 0.2 m) cut to 500 px
# (100 m: 10 x 10 patches of 10 m; a random window in training as the reference, the
# centred one in testing where the reference also draws it at random) and the
# Sentinel-2 series on the 10 x 10 px (100 m) around the patch's centroid (the
# reference's crop_s2, X - 5 : X + 5), up to 50 dates (random in training, evenly
# spread in testing). The 2.4 m the aerial crop leaves out are not in the Sentinel-2
# window either. Layout: configs/_base_/datasets/flair.py (validation on the test
# split as that base; the reference validates on 20 % of the training domains).
_base_ = ['./flair.py']
num_classes = 13
num_dates = 50
crop_size = 500  # aerial px at 0.2 m: 100 m
s2_size = 10  # Sentinel-2 px at 10 m: 100 m
used = ['aerial', 's2']
load_aerial = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(aerial=dict(bands={{_base_.aerial_bands}}, scale='uint8')),
    label_maps=dict(gt_seg_map=dict(like='aerial')))
load_s2 = dict(type='eofm.LoadFLAIR2Sentinel', size=s2_size, scale='reflectance')
train_crop = dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='aerial')
test_crop = dict(type='eofm.AlignedCenterCrop', size=crop_size, reference='aerial')
train_sample = dict(
    type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='random')
test_sample = dict(type='eofm.TemporalSample', lengths=dict(s2=num_dates), mode='even')
remap = dict(
    type='eofm.RemapLabelMap', key='gt_seg_map', lut={{_base_.flair_lut}}, default=12)
to_multilabel = dict(
    type='eofm.SegMapToMultiLabel', num_classes=num_classes, ignore_index=255)
pack = dict(type='eofm.PackMultiModalInputs', modalities=used)
train_pipeline = [
    load_aerial, remap, to_multilabel, train_crop, load_s2, train_sample, pack
]
test_pipeline = [
    load_aerial, remap, to_multilabel, test_crop, load_s2, test_sample, pack
]
# Self-supervised pretraining reads no labels.
pretrain_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(aerial=dict(bands={{_base_.aerial_bands}}, scale='uint8'))),
    train_crop, load_s2, train_sample, pack
]
# Aerial statistics of the FLAIR baselines (configs/_base_/datasets/flair.py);
# Sentinel-2 reflectances as read (the reference feeds raw values to the L-TAE, whose
# first layer is batch-normalised).

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
