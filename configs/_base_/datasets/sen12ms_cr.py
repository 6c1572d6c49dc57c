# SEN12MS-CR: cloud removal, Sentinel-1 + cloudy Sentinel-2 -> cloud-free Sentinel-2
# (256 x 256 px, 13 bands; Ebel et al., IEEE TGRS 2021).
# Expected layout under data_root:
#   ROIs1158_spring_s1/s1_<scene>/ROIs1158_spring_s1_<scene>_p<patch>.tif
#   ROIs1158_spring_s2/s2_<scene>/ROIs1158_spring_s2_<scene>_p<patch>.tif
#   ROIs1158_spring_s2_cloudy/s2_cloudy_<scene>/
#       ROIs1158_spring_s2_cloudy_<scene>_p<patch>.tif
#   ... for ROIs1868_summer, ROIs1970_fall, ROIs2017_winter
# Splits: the val/test scenes of the reference loader ('train' is every other scene).
# No published statistics: the reference clips S2 to [0, 1] reflectance and S1 to
# [-25, 0] dB.
dataset_type = 'eofm.SEN12MSCR'
data_root = 'data/sen12ms_cr/'
s2_bands = [
    'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11',
    'B12'
]

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            s2_cloudy=dict(bands=s2_bands, scale='reflectance'),
            s1=dict(bands=['VV', 'VH'], scale='none'),
            s2=dict(bands=s2_bands, scale='reflectance')),
        reference='s2_cloudy'),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2_cloudy', 's1', 's2']),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
