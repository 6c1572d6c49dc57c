# PASTIS-HD (Astruc et al., OmniSat, ECCV 2024): PASTIS-R plus a SPOT 6-7 image per
# patch (8-bit R, G, B resampled to 1 m, 1280 x 1280 px). Layout as PASTIS-R (see
# pastis_r.py) plus
#   DATA_SPOT/PASTIS_SPOT6_RVB_1M00_2019/SPOT6_RVB_1M00_2019_{id}.tif
# The release gives no SPOT statistics: normalise it in the task config if needed.
_base_ = ['./pastis_r.py']
dataset_type = 'eofm.PASTISHD'
data_root = 'data/pastis_hd/'
num_dates = 50

modalities = dict(
    s2=dict(scale='reflectance'),
    s1_asc=dict(),
    s1_des=dict(),
    spot=dict(scale='uint8'))
lengths = dict(s2=num_dates, s1_asc=num_dates, s1_des=num_dates)
packed = ['s2', 's1_asc', 's1_des', 'spot']
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        label_maps=dict(gt_seg_map=dict(like='s2'))),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=packed),
]

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, pipeline=test_pipeline))
