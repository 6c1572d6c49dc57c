# TimeSen2Crop (Weikmann, Paris & Bruzzone, IEEE JSTARS 2021): crop-type
# classification (16 classes) of Sentinel-2 L2A pixel series over Austria.
# Expected layout under data_root (eofm/datasets/timesen2crop.py):
#   <tile>/dates.csv                 acquisition dates, oldest first (YYYYMMDD or
#                                    YYYY-MM-DD, header row optional)
#   <tile>/<class 0-15>/<pixel>.csv  a row per date: B2 B3 B4 B5 B6 B7 B8A B11 B12
#                                    (reflectance x 1e4) and a flag (0 clear, 1
#                                    cloud, 2 shadow, 3 snow); header row optional
# 16 tile folders: 15 tiles of Sept 2017 - Aug 2018 and one of Sept 2018 - Aug 2019.
# Split by tiles (dataset arguments tiles / val_tiles / test_tiles). Default: the
# 2018-2019 tile (found from its dates.csv) is the test set, the last 2017-2018 tile
# in name order the validation set, the 14 others the training set.
#
# A sample is one pixel (a 10 m tile): a (T, 9, 1, 1) series on the tile's dates.
# Dates flagged cloud, shadow or snow are dropped (FilterCloudyDates on the flag
# column; a series with no clear date keeps its least flagged one). AnySat's 's2'
# projector takes 10 bands with B8: ArrangeBands inserts B8 filled with the B8
# normalisation mean (0 after normalisation).
dataset_type = 'eofm.TimeSen2Crop'
data_root = 'data/timesen2crop/'
ts2c_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8A', 'B11', 'B12']
s2_bands = ['B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B11', 'B12']
# Recompute them with: python tools/analysis_tools/dataset_stats.py <this file>
# PLACEHOLDERS, to recompute on the training tiles: the PASTIS fold-1 statistics of
# the AnySat / OmniSat release (Sentinel-2 L2A reflectance, see pastis.py), in the
# order of s2_bands.
normalize = dict(
    s2=dict(
        mean=[
            0.11659, 0.13757, 0.14292, 0.17648, 0.27193, 0.30636, 0.32059, 0.33191,
            0.24229, 0.16394
        ],
        std=[
            0.19426, 0.18819, 0.19594, 0.18672, 0.17546, 0.17694, 0.17849, 0.17677,
            0.14590, 0.12993
        ]))
b8_fill = 0.32059  # normalize.s2.mean of B8

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            s2=dict(bands=ts2c_bands, scale='reflectance'),
            s2_flag=dict(bands=['flag'], resample='nearest')),
        reference='s2'),
    dict(
        type='eofm.FilterCloudyDates',
        modality='s2',
        cloud_key='s2_flag',
        kind='mask',
        mask_threshold=0.5,
        max_cloud_fraction=0.5,
        min_dates=1),
    dict(
        type='eofm.ArrangeBands',
        modality='s2',
        src=ts2c_bands,
        dst=s2_bands,
        fill=b8_fill),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
train_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
