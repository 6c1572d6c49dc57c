# PASTIS-MM (SkySense, Guo et al., CVPR 2024): PASTIS-R plus a high-resolution
# optical image per patch, the static modality `hr`. Layout as PASTIS-R (see
# pastis_r.py) plus, by default,
#   DATA_HR/HR_{id}.tif              (8-bit optical image of the patch footprint)
# Point the dataset at another layout with
#   static_images=dict(hr=dict(pattern='<folder>/<name>_{id}.tif', bands=[...]))
# and change hr's scale if the images are not 8-bit.
_base_ = ['./pastis_r.py']
dataset_type = 'eofm.PASTISMM'
data_root = 'data/pastis_mm/'
num_dates = 50

modalities = dict(
    s2=dict(scale='reflectance'), s1_asc=dict(), s1_des=dict(), hr=dict(scale='uint8'))
lengths = dict(s2=num_dates, s1_asc=num_dates, s1_des=num_dates)
packed = ['s2', 's1_asc', 's1_des', 'hr']
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
