# PASTIS-R (Sainte Fare Garnot et al., ISPRS J. 2022): PASTIS with Sentinel-1
# series. Layout as PASTIS (see pastis.py) plus
#   DATA_S1A/S1A_{id}.npy, DATA_S1D/S1D_{id}.npy   (T, 3, 128, 128): VV, VH in dB
#       and VV/VH, ~70 ascending and ~70 descending dates (dates-S1A / dates-S1D)
_base_ = ['./pastis.py']
dataset_type = 'eofm.PASTISR'
data_root = 'data/pastis_r/'
num_dates = 50

# Sentinel-1 is stored in dB already: no scaling.
modalities = dict(s2=dict(scale='reflectance'), s1_asc=dict(), s1_des=dict())
lengths = dict(s2=num_dates, s1_asc=num_dates, s1_des=num_dates)
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1_asc', 's1_des']),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1_asc', 's1_des']),
]

# Fold-1 statistics of the release (NORM_S1A_patch.json, NORM_S1D_patch.json).
normalize = dict(
    s1_asc=dict(mean=[-10.93095, -17.34851, 6.41751], std=[3.28597, 3.21295, 3.34211]),
    s1_des=dict(mean=[-11.10585, -17.50208, 6.40722], std=[3.37619, 3.17053, 3.34938]))

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
