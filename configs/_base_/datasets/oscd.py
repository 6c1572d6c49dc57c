# OSCD: urban change detection between two Sentinel-2 L1C images (13 bands) of 24
# cities (Daudt et al., IGARSS 2018).
# Expected layout under data_root (the three official archives, unzipped):
#   Onera Satellite Change Detection dataset - Images/train.txt, test.txt,
#       <city>/dates.txt, <city>/imgs_1/*_B01.tif ... *_B8A.tif, <city>/imgs_2/...
#   Onera Satellite Change Detection dataset - Train Labels/<city>/cm/cm.png
#   Onera Satellite Change Detection dataset - Test Labels/<city>/cm/cm.png
# Training reads 96 x 96 px patches made by
#   python tools/dataset_converters/oscd.py data/oscd --out-dir data/oscd_patches
# (patch_root); validation and test read the whole cities (batch size 1).
dataset_type = 'eofm.OSCD'
data_root = 'data/oscd/'
patch_root = 'data/oscd_patches/'
s2_bands = [
    'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10', 'B11',
    'B12'
]
# Band statistics of TorchGeo's OSCD data module (DN), as reflectance (DN / 10000).
s2_stats = dict(
    mean=[
        v / 1e4 for v in (1583.0741, 1374.3202, 1294.1616, 1325.6158, 1478.7408,
                          1933.0822, 2166.0608, 2076.4868, 2306.0652, 690.9814, 16.2360,
                          2080.3347, 1524.6930)
    ],
    std=[
        v / 1e4
        for v in (52.1937, 83.4168, 105.6966, 151.1401, 147.4615, 115.9289, 123.1974,
                  114.6483, 141.4530, 73.2758, 4.8368, 213.4821, 179.4793)
    ])
normalize = dict(pre=s2_stats, post=s2_stats)

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            pre=dict(bands=s2_bands, scale='reflectance'),
            post=dict(bands=s2_bands, scale='reflectance')),
        reference='pre',
        label_maps=dict(gt_change_map=dict(like='pre'))),
    dict(type='eofm.RemapLabelMap', key='gt_change_map', binary=True),
    dict(type='eofm.PackMultiModalInputs', modalities=['pre', 'post']),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=patch_root,
        split='train',
        mode='patches',
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        mode='cities',
        pipeline=pipeline))
test_dataloader = val_dataloader
