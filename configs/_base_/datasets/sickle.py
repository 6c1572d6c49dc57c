# SICKLE (Sani et al., WACV 2024): paddy / non-paddy segmentation of 320 m tiles
# (32 x 32 px at 10 m) in the Cauvery Delta from Sentinel-2, Sentinel-1 and
# Landsat-8 series (see eofm/datasets/sickle.py). Official layout under data_root:
#   sickle_dataset_tabular.csv      UNIQUE_ID, PLOT_ID, SPLIT (train / val / test)
#   images/S2/npy/<uid>/*.npz       one archive per date, a (H, W) array per band
#   images/S1/npy/<uid>/*.npz       VV, VH
#   images/L8/npy/<uid>/*.npz       SR_B1 ... SR_B7, ST_B10 (30 m)
#   masks/10m/<uid>.tif             band 1 plot ids, band 2 crop-type code
# Labels: 0 paddy (code 1), 1 non-paddy (codes 2-21), 255 ignored (outside plots and
# plots of other splits; eofm.SICKLECropTypeMap). The test labels are not released:
# evaluate on the validation split (val and test loaders both read 'val').
# Every series is read on the 32 x 32 grid (Landsat 8 resampled with nearest
# neighbours, as the reference) and sampled to num_dates dates (the series have
# 13-148 dates; shorter ones are padded and masked).
dataset_type = 'eofm.SICKLE'
data_root = 'data/sickle/'
num_dates = 50
size = (32, 32)
# AnySat's Sentinel-2 bands in the reference's order (B8A before B8).
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B8', 'B11', 'B12']
l8_bands = ['SR_B1', 'SR_B2', 'SR_B3', 'SR_B4', 'SR_B5', 'SR_B6', 'SR_B7', 'ST_B10']
modality_names = ['s2', 's1', 'l8']
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDERS (mean 0, std 1: no normalisation): SICKLE publishes no band
# statistics; the reference computes them over the training split
# (NORM_<m>_patch.json). Recompute them over the train rows and put them here.
normalize = dict(
    s2=dict(mean=[0.0] * 10, std=[1.0] * 10),
    s1=dict(mean=[0.0] * 2, std=[1.0] * 2),
    l8=dict(mean=[0.0] * 8, std=[1.0] * 8))

modalities = dict(
    s2=dict(bands=s2_bands, size=size, resample='nearest'),
    s1=dict(bands=['VV', 'VH'], size=size, resample='nearest'),
    l8=dict(bands=l8_bands, size=size, resample='nearest'))
label_maps = dict(gt_seg_map=dict(like='s2'), plot_map=dict(like='s2'))
lengths = {m: num_dates for m in modality_names}
train_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        reference='s2',
        label_maps=label_maps),
    dict(type='eofm.SICKLECropTypeMap'),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='random'),
    dict(type='eofm.PackMultiModalInputs', modalities=modality_names),
]
test_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=modalities,
        reference='s2',
        label_maps=label_maps),
    dict(type='eofm.SICKLECropTypeMap'),
    dict(type='eofm.TemporalSample', lengths=lengths, mode='even'),
    dict(type='eofm.PackMultiModalInputs', modalities=modality_names),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader
