# SEN12MS: land-cover segmentation of 256 x 256 px Sentinel-1/2 patches with MODIS
# IGBP labels in the simplified 10-class scheme of the DFC 2020 (Schmitt et al.,
# ISPRS Annals 2019).
# Expected layout under data_root:
#   ROIs1158_spring/s1_<scene>/ROIs1158_spring_s1_<scene>_p<patch>.tif   (VV, VH dB)
#   ROIs1158_spring/s2_<scene>/ROIs1158_spring_s2_<scene>_p<patch>.tif   (13 bands)
#   ROIs1158_spring/lc_<scene>/ROIs1158_spring_lc_<scene>_p<patch>.tif   (IGBP, ...)
#   ROIs1868_summer/, ROIs1970_fall/, ROIs2017_winter/
#   splits/train_list.txt, test_list.txt   (patch names, SEN12MS repository)
dataset_type = 'eofm.SEN12MS'
data_root = 'data/sen12ms/'
s2_bands = ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12']
# IGBP value -> simplified class (eofm.datasets.sen12ms.IGBP_TO_SIMPLIFIED); 255: none.
igbp_lut = [255, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 5, 7, 8, 9]
# Band statistics of the SEN12MS classification baselines (S2 DN / 10000, S1 dB).
normalize = dict(
    s2=dict(
        mean=[
            v / 1e4 for v in (1226.4215, 1137.3799, 1139.6792, 1350.9973, 1932.9058,
                              2211.1584, 2154.9846, 2409.1128, 2001.8622, 1356.0801)
        ],
        std=[
            v / 1e4 for v in (741.6254, 740.883, 960.1045, 946.76056, 985.52747,
                              1082.4341, 1057.7628, 1136.1942, 1132.7898, 991.48016)
        ]),
    s1=dict(mean=[-11.76858, -18.294598], std=[4.525339, 4.3586307]))

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            s2=dict(bands=s2_bands, scale='reflectance'),
            s1=dict(bands=['VV', 'VH'], scale='none')),
        reference='s2',
        label_maps=dict(gt_seg_map=dict(like='s2', band=0))),
    dict(type='eofm.RemapLabelMap', key='gt_seg_map', lut=igbp_lut, default=255),
    dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1']),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/train_list.txt',
        pipeline=pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split_file='splits/test_list.txt',
        pipeline=pipeline))
test_dataloader = val_dataloader
