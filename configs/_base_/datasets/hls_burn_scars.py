# HLS Burn Scars (Phillips et al., "HLS Foundation Burnscars Dataset", NASA / IBM,
# 2023): burn scar / not burned segmentation of 512 x 512 px Harmonized
# Landsat-Sentinel-2 scenes at 30 m (15,360 m), 6 bands.
# Expected layout under data_root:
#   training/subsetted_512x512_HLS.S30.<tile>.<YYYYDDD>.v1.4_merged.tif
#       (Blue, Green, Red, NIR narrow, SWIR 1, SWIR 2 surface reflectance)
#   training/subsetted_512x512_HLS.S30.<tile>.<YYYYDDD>.v1.4.mask.tif
#       (or ..._mask.tif; 1 burn scar, 0 not burned, -1 no data)
#   validation/...   (the same; validation is also the test set)
# The image is a one-date series `hls` dated by the name's year and day of year.
dataset_type = 'eofm.HLSBurnScars'
data_root = 'data/hls_burn_scars/'
hls_bands = ['Blue', 'Green', 'Red', 'NIR', 'SWIR1', 'SWIR2']
# Label value -> class: 0 not burned, 1 burn scar; -1 (no data) -> 255.
label_lut = [0, 1]
ignore_index = 255
# Band statistics (reflectance) of the dataset's reference fine-tuning config
# (NASA-IMPACT hls-foundation-os, configs/burn_scars.py).
normalize = dict(
    hls=dict(
        mean=[
            0.033349706741586264, 0.05701185520536176, 0.05889748132001316,
            0.2323245113436119, 0.1972854853760658, 0.11944914225186566
        ],
        std=[
            0.02269135568823774, 0.026807560223070237, 0.04004109844362779,
            0.07791732423672691, 0.08708738838140137, 0.07241979477437814
        ]))

load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(hls=dict(bands=hls_bands, scale='none')),
    label_maps=dict(gt_seg_map=dict(like='hls')))
remap = dict(
    type='eofm.RemapLabelMap', key='gt_seg_map', lut=label_lut, default=ignore_index)
pipeline = [load, remap, dict(type='eofm.PackMultiModalInputs', modalities=['hls'])]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = val_dataloader
