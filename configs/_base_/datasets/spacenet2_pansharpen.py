# SpaceNet-2 pan-sharpening: WorldView-3 panchromatic (0.3 m) + multispectral
# (8 bands, 1.24 m) -> pan-sharpened multispectral (8 bands, 0.3 m).
# Expected layout under data_root (the public SpaceNet Buildings Round 2 archives):
#   AOI_2_Vegas_Train/PAN/PAN_AOI_2_Vegas_img<n>.tif                (1 band, 650 px)
#   AOI_2_Vegas_Train/MUL/MUL_AOI_2_Vegas_img<n>.tif                (8 bands, ~163 px)
#   AOI_2_Vegas_Train/MUL-PanSharpen/MUL-PanSharpen_AOI_2_Vegas_img<n>.tif
#                                                                   (8 bands, 650 px)
#   ... AOI_3_Paris_Train, AOI_4_Shanghai_Train, AOI_5_Khartoum_Train
# Splits: no public validation split; 'val' is every 10th image of each AOI folder
# (by image number), 'train' the rest (eofm.SpaceNet2PanSharpening).
# Every modality is read on the PAN grid (650 x 650 px, the PAN tile size): the
# multispectral image is upsampled bilinearly by the windowed GDAL read. Digital
# numbers are 11-bit: scale 'uint11' (DN / 2047) gives [0, 1].
dataset_type = 'eofm.SpaceNet2PanSharpening'
data_root = 'data/spacenet2/'
ms_bands = ['coastal', 'blue', 'green', 'yellow', 'red', 'red_edge', 'nir1', 'nir2']
tile_size = (650, 650)

pipeline = [
    dict(
        type='eofm.LoadMultiModalTiles',
        modalities=dict(
            pan=dict(bands=['PAN'], scale='uint11', size=tile_size),
            ms=dict(bands=ms_bands, scale='uint11', size=tile_size),
            pansharpen=dict(bands=ms_bands, scale='uint11', size=tile_size)),
        reference='pan'),
    dict(type='eofm.PackMultiModalInputs', modalities=['pan', 'ms', 'pansharpen']),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train', pipeline=pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='eofm.multimodal_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val', pipeline=pipeline))
test_dataloader = val_dataloader
