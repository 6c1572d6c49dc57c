# fMoW-Sentinel: 62-class classification of Sentinel-2 composites (13 bands) of the
# Functional Map of the World locations (Cong et al., SatMAE, NeurIPS 2022).
# Expected layout under data_root:
#   train.csv, val.csv, test_gt.csv   category,location_id,image_id,timestamp,polygon
#   train/<category>/<category>_<location_id>/<category>_<location_id>_<image_id>.tif
#   val/..., test_gt/...
# One sample per image (mode='image'; mode='series' gives one dated series per
# location). Images differ in size; they are resampled to 96 x 96 px as in SatMAE.
dataset_type = 'eofm.FMoWSentinel'
data_root = 'data/fmow-sentinel/'
s2_bands = [
    'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11',
    'B12'
]
# Band statistics of SatMAE's fMoW-Sentinel loader (DN), as reflectance (DN / 10000).
normalize = dict(
    s2=dict(
        mean=[
            v / 1e4 for v in (1370.19151926, 1184.3824625, 1120.77120066, 1136.26026392,
                              1263.73947144, 1645.40315151, 1846.87040806,
                              1762.59530783, 1972.62420416, 582.72633433, 14.77112979,
                              1732.16362238, 1247.91870117)
        ],
        std=[
            v / 1e4 for v in (633.15169573, 650.2842772, 712.12507725, 965.23119807,
                              948.9819932, 1108.06650639, 1258.36394548, 1233.1492281,
                              1364.38688993, 472.37967789, 14.3114637, 1310.36996126,
                              1087.6020813)
        ]))

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(s2=dict(bands=s2_bands, scale='reflectance', size=(96, 96)))),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2']),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
