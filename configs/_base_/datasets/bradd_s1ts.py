# BraDD-S1TS (Karaman et al., "Deforestation detection in the Amazon with Sentinel-1
# SAR image time series", ISPRS Annals 2023): pixel-wise deforestation between the
# first and the last image of a Sentinel-1 series (20-66 dates, VV and VH) on 13,234
# tiles of 48 x 48 px at 10 m (480 m).
# ASSUMED layout under data_root (the release's layout is not documented in a
# source this config could rely on; convert the release to it, or adapt the
# dataset's arguments split_dirs / series_file / dates_file / mask_file /
# series_axes / mask_axes, see eofm/datasets/bradd_s1ts.py):
#   {train,val,test}/<tile_id>/s1.npy      (T, 2, 48, 48) float32 VV, VH in dB
#   {train,val,test}/<tile_id>/dates.txt   T lines YYYY-MM-DD
#   {train,val,test}/<tile_id>/mask.npy    (48, 48): 0 no change, 1 deforestation,
#                                          255 not labelled
# Series keep all their dates; eofm.MultiModalDataPreprocessor pads a batch to its
# longest series (padded dates are masked).
dataset_type = 'eofm.BraDDS1TS'
data_root = 'data/bradd_s1ts/'
label_lut = [0, 1]
ignore_index = 255
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDER statistics (Sentinel-1 dB), to recompute on the BraDD-S1TS training
# tiles: VV, VH of SEN12MS (configs/_base_/datasets/sen12ms.py);
# `normalize_s1_with_ratio` adds the VV - VH (dB) channel with PASTIS-R's
# ascending-orbit statistics (pastis_r.py).
normalize = dict(s1=dict(mean=[-11.76858, -18.294598], std=[4.525339, 4.3586307]))
normalize_s1_with_ratio = dict(
    mean=[-11.76858, -18.294598, 6.41751], std=[4.525339, 4.3586307, 3.34211])

load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(s1=dict(bands=['VV', 'VH'], scale='none')),
    label_maps=dict(gt_seg_map=dict(like='s1')))
remap = dict(
    type='eofm.RemapLabelMap', key='gt_seg_map', lut=label_lut, default=ignore_index)
pipeline = [load, remap, dict(type='eofm.PackMultiModalInputs', modalities=['s1'])]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
