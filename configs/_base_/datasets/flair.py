# FLAIR #2: 13-class land-cover segmentation of 512 x 512 px aerial patches (0.2 m,
# R, G, B, NIR, elevation) with Sentinel-2 time series (Garioud et al., NeurIPS 2023
# Datasets and Benchmarks; arXiv:2310.13336).
# Expected layout under data_root:
#   flair_aerial_train/<domain>/<zone>/img/IMG_<id>.tif
#   flair_labels_train/<domain>/<zone>/msk/MSK_<id>.tif          (values 1-19)
#   flair_sen_train/<domain>/<zone>/sen/SEN2_sp_<domain>-<zone>_data.npy, _masks.npy,
#                                       _products.txt
#   flair-2_centroids_sp_to_patch.json
#   flair_2_aerial_test/, flair_2_labels_test/, flair_2_sen_test/   (same structure)
# Mask values 1-12 are classes 0-11, 13-19 are "other" (12). Validation uses the test
# split; FLAIR splits train/val by domain (the datasets' `domains` argument).
# FLAIR-1 (aerial only): dataset_type 'eofm.FLAIR' with `aerial_pipeline`.
dataset_type = 'eofm.FLAIR2'
data_root = 'data/flair/'
aerial_bands = ['R', 'G', 'B', 'NIR', 'DEM']
# Mask value -> class index (eofm.datasets.flair.FLAIR_LUT).
flair_lut = [12, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
# Aerial statistics of the FLAIR baselines (0-255), scaled to [0, 1].
normalize = dict(
    aerial=dict(
        mean=[v / 255 for v in (105.08, 110.87, 101.82, 106.38, 53.26)],
        std=[v / 255 for v in (52.17, 45.38, 44.0, 39.69, 79.3)]))

aerial_pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(aerial=dict(bands=aerial_bands, scale='uint8')),
        label_maps=dict(gt_seg_map=dict(like='aerial'))),
    dict(type='eofm.RemapLabelMap', key='gt_seg_map', lut=flair_lut, default=12),
    dict(type='eofm.PackMultiModalInputs', modalities=['aerial']),
]
pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(aerial=dict(bands=aerial_bands, scale='uint8')),
        label_maps=dict(gt_seg_map=dict(like='aerial'))),
    # The 40 x 40 px Sentinel-2 super-patch around the aerial patch (FLAIR-2).
    dict(type='eofm.LoadFLAIR2Sentinel', size=40, scale='reflectance'),
    dict(type='eofm.RemapLabelMap', key='gt_seg_map', lut=flair_lut, default=12),
    dict(type='eofm.PackMultiModalInputs', modalities=['aerial', 's2']),
]
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
        type=dataset_type, data_root=data_root, split='test', pipeline=pipeline))
test_dataloader = val_dataloader
