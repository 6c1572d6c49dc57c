# SpaceNet-2 pan-sharpening with msGFM: WorldView-3 panchromatic (1 band, 0.3 m) +
# multispectral (8 bands, 1.24 m, upsampled to the PAN grid) -> pan-sharpened
# multispectral (8 bands, 0.3 m, the MUL-PanSharpen product of the dataset).
# Paper: Han et al., CVPR 2024, Sec. 4.2.3 and Table 3, msGFM: PSNR 22.850,
# SSIM 0.668 (GFM 22.599 / 0.638, SatMAE 22.742 / 0.621, random init 21.825 /
# 0.594). The paper follows GFM's protocol without describing it further.
#
# Model: eofm.ImageToImageModel: eofm.MsGFMMultiSensor (stack_channels, appendix
# C.2) -> Swin-B levels of strides 4, 8, 16, 32 -> eofm.PixelRegressionHead (8
# output bands) -> L1 loss against MUL-PanSharpen scaled to [0, 1] (DN / 2047).
# The MoE balancing loss of the encoder is added with weight 0.01.
# How the two inputs meet the pretrained sensors (rgb 3, s2 13, s1 2, dsm 1):
# WorldView-3 is none of them, so the PAN and MS images are stacked into one
# 16-channel patch embedding initialised from the pretrained `rgb` and `s2`
# embeddings (the average of the two kernels side by side):
# - PAN goes through the `rgb` slot at the green position (band_index rgb=[1]; the
#   panchromatic band, 450-800 nm, is centred near green), the red and blue
#   columns see zeros;
# - the 8 MS bands go through the `s2` slot at the Sentinel-2 bands of the nearest
#   centre wavelength: coastal -> B01, blue -> B02, green -> B03, red -> B04, red
#   edge (725 nm) -> B06, NIR1 -> B08, NIR2 (950 nm) -> B09; yellow (605 nm) has
#   no Sentinel-2 counterpart and takes the cirrus B10 slot (no surface signal in
#   the pretraining). The other five S2 columns see zeros.
# The stacked embedding is fine-tuned with the rest of the encoder.
# Metrics: eofm.ImageRestorationMetric, PSNR and SSIM with data range 1 (per image,
# averaged), predictions clipped to [0, 1].
#
# The paper gives no fine-tuning hyperparameters for this task. Choices (as the
# SEN12MS-CR config): AdamW, lr 1e-4, weight decay 0.05, batch 32 (8 GPUs x 4), 40k
# iterations, 1500 linear warm-up iterations then cosine decay, drop path 0.1;
# random 256 x 256 px crops of the 650 x 650 px tiles with random flips for
# training, full tiles for validation (Swin pads the patch grid to its windows).
# Inputs are scaled to [0, 1] (11-bit DN / 2047), not normalised.
#
# Data (configs/_base_/datasets/spacenet2_pansharpen.py): data/spacenet2/AOI_*/
# PAN, MUL and MUL-PanSharpen folders of the public archives; every 10th image of
# each AOI folder is the validation split (there is no public one).
# Weights: checkpoints/msgfm_swin-b.pth (eofm's msGFM pretraining; see
# configs/_base_/models/msgfm_swin-b.py).
_base_ = [
    '../_base_/datasets/spacenet2_pansharpen.py',
    '../_base_/models/msgfm_swin-b.py',
    '../_base_/schedules/msgfm-pixreg_adamw-cosine-40k.py',
    '../_base_/default_runtime_eofm.py',
]
crop_size = (256, 256)
target = 'pansharpen'
# WorldView-3 MS band -> position among the 13 pretrained Sentinel-2 bands
# (B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B10 B11 B12).
wv3_to_s2 = [0, 1, 2, 10, 3, 5, 7, 9]
pan_to_rgb = [1]

_load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        pan=dict(bands=['PAN'], scale='uint11', size=_base_.tile_size),
        ms=dict(bands=_base_.ms_bands, scale='uint11', size=_base_.tile_size),
        pansharpen=dict(bands=_base_.ms_bands, scale='uint11', size=_base_.tile_size)),
    reference='pan')
_pack = dict(type='eofm.PackMultiModalInputs', modalities=['pan', 'ms', target])
train_pipeline = [
    _load,
    dict(type='eofm.AlignedRandomCrop', size=crop_size, reference='pan'),
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    _pack,
]
test_pipeline = [_load, _pack]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    type='eofm.ImageToImageModel',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'),
    backbone=dict(
        type='eofm.MsGFMMultiSensor',
        backbone=_base_.msgfm_encoder,
        sensors=['rgb', 's2'],
        input_keys=dict(rgb='pan', s2='ms'),
        band_index=dict(rgb=pan_to_rgb, s2=wv3_to_s2),
        mode='stack_channels',
        stack_name='stack'),
    head=dict(
        type='eofm.PixelRegressionHead',
        in_channels=[128, 256, 512, 1024],
        in_strides=[4, 8, 16, 32],
        out_channels=8,
        channels=256,
        loss=dict(type='mmdet.L1Loss', loss_weight=1.0)),
    target_key=target,
    target_range=(0.0, 1.0),
    aux_loss_weight=0.01)

# a list: a dict with a `metrics` key would be read as an Evaluator config
val_evaluator = [
    dict(type='eofm.ImageRestorationMetric', metrics=['psnr', 'ssim'], data_range=1.0)
]
test_evaluator = val_evaluator

# checkpoints every 4k iterations keep the best PSNR
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False,
        interval=4000,
        max_keep_ckpts=2,
        save_best='restoration/psnr',
        rule='greater'))
