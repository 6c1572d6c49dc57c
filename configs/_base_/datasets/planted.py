# PLANTED (Pazos-Outon et al., IGARSS 2024): classification of 120 m tiles into 40
# planted tree species / plantation classes from five satellite series, in the
# NumPy export the AnySat reference reads (see eofm/datasets/planted.py):
#   <split>/labels2.json                   tile id -> class index (0-39)
#   <split>/<id>/<id>_<m>.npz              arr_0 (T, H, W, C) pixels
#   <split>/<id>/<id>_<m>_mask.npz         arr_0 (T, H, W, C) validity (non-zero)
#   <split>/<id>/<id>_<m>_timestamp.npz    arr_0 (T,) ms since 1970-01-01
# for split train / val / test and m in s2 (10 m, 8 dates, 10 bands), s1 (10 m, 8
# dates, VV, VH), l7 (30 m, 20 dates, 6 bands), alos (30 m, 4 dates, HH, HV), modis
# (250 m, 60 dates, 7 bands, one pixel for the tile).
# Every series is read at its native size (12 x 12, 4 x 4 or 1 x 1 px); dates come
# from the timestamp files (eofm.LoadPlantedDates), validity from the mask files
# (eofm.LoadPlantedMasks). Sentinel-1 and ALOS-2 get the ratio of their two
# polarisations as a third channel (AnySat's 3-channel 's1' / 'alos').
# Training drops dates at random as the reference (temporal dropout 0.3, 0.1 for
# ALOS): 5 of 8 S2 / S1 dates, 14 of 20 Landsat 7, 3 of 4 ALOS, 42 of 60 MODIS.
dataset_type = 'eofm.PLANTED'
data_root = 'data/planted/'
modality_names = ['s2', 's1', 'l7', 'alos', 'modis']
num_dates = dict(s2=8, s1=8, l7=20, alos=4, modis=60)
train_dates = dict(s2=5, s1=5, l7=14, alos=3, modis=42)
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDERS (mean 0, std 1: no normalisation): the export's value ranges are not
# published; the reference computes per-band statistics over the training split
# (NORM_<m>_patch.json). Recompute them over train/ and put them here (s1 and alos
# with their third, ratio channel).
normalize = dict(
    s2=dict(mean=[0.0] * 10, std=[1.0] * 10),
    s1=dict(mean=[0.0] * 3, std=[1.0] * 3),
    l7=dict(mean=[0.0] * 6, std=[1.0] * 6),
    alos=dict(mean=[0.0] * 3, std=[1.0] * 3),
    modis=dict(mean=[0.0] * 7, std=[1.0] * 7))

modalities = {m: dict() for m in modality_names}
train_pipeline = [
    dict(type='eofm.LoadPlantedDates'),
    dict(type='eofm.LoadMultiModalTiles', modalities=modalities, reference='s2'),
    dict(type='eofm.LoadPlantedMasks'),
    dict(type='eofm.AppendBandRatio', modality='s1'),
    dict(type='eofm.AppendBandRatio', modality='alos'),
    dict(type='eofm.TemporalSample', lengths=train_dates, mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=modality_names),
]
test_pipeline = [
    dict(type='eofm.LoadPlantedDates'),
    dict(type='eofm.LoadMultiModalTiles', modalities=modalities, reference='s2'),
    dict(type='eofm.LoadPlantedMasks'),
    dict(type='eofm.AppendBandRatio', modality='s1'),
    dict(type='eofm.AppendBandRatio', modality='alos'),
    dict(type='eofm.TemporalSample', lengths=num_dates, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=modality_names),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        modalities=modality_names,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        modalities=modality_names,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        modalities=modality_names,
        pipeline=test_pipeline))
