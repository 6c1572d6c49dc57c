# BigEarthNet-S2 v1.0: 19-class multi-label classification of 120 x 120 px Sentinel-2
# L2A patches (Sumbul et al., IGARSS 2019; BigEarthNet-MM, IEEE GRSM 2021).
# Expected layout under data_root:
#   BigEarthNet-v1.0/<patch>/<patch>_B01.tif ... _B12.tif, _B8A.tif
#                            <patch>_labels_metadata.json
#   splits/train.csv, val.csv, test.csv   split CSVs of the BigEarthNet 19-class model
#                                          repositories, "<S2 patch>[,<S1 patch>]"
#   patches_with_seasonal_snow.csv, patches_with_cloud_and_shadow.csv  (bigearth.net)
# The 10/20/60 m band files are stacked on the 10 m grid (120 x 120 px).
dataset_type = 'eofm.BigEarthNetS2'
data_root = 'data/bigearthnet/'
exclude_files = ['patches_with_seasonal_snow.csv', 'patches_with_cloud_and_shadow.csv']
s2_bands = [
    'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12'
]
# Band statistics of the BigEarthNet models (DN), as reflectance (DN / 10000).
normalize = dict(
    s2=dict(
        mean=[
            v / 1e4 for v in (340.76769064, 429.9430203, 614.21682446, 590.23569706,
                              950.68368468, 1792.46290469, 2075.46795189, 2218.94553375,
                              2266.46036911, 2246.0605464, 1594.42694882, 1009.32729131)
        ],
        std=[
            v / 1e4 for v in (554.81258967, 572.41639287, 582.87945694, 675.88746967,
                              729.89827633, 1096.01480586, 1273.45393088, 1365.45589904,
                              1356.13789355, 1302.3292881, 1079.19066363, 818.86747235)
        ]))

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(s2=dict(bands=s2_bands, scale='reflectance'))),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/train.csv',
        exclude_files=exclude_files,
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/val.csv',
        exclude_files=exclude_files,
        pipeline=pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/test.csv',
        exclude_files=exclude_files,
        pipeline=pipeline))
