# SEN12MS-CR cloud removal with msGFM: Sentinel-1 + cloudy Sentinel-2 -> cloud-free
# Sentinel-2 (13 bands).
# Paper: Han et al., CVPR 2024, Table 3 / Table 4, msGFM: MAE 0.026, SAM 4.87,
# SSIM 0.842 (PSNR is not reported for SEN12MS-CR). Fig. 4 / Table 9 report SAM on
# 1 % of SEN12MS-CR (7.51 +- 0.057 for GeoPile-2 pretraining): set
# train_dataloader.dataset.split_file to a 1 % patch list (tools/dataset_converters/
# sample_fraction.py samples one from a SEN12MS-CR patch list).
#
# Model: eofm.ImageToImageModel: eofm.MsGFMMultiSensor (stack_channels, appendix
# C.2: the 2 SAR bands and the 13 cloudy S2 bands stacked into one 15-channel patch
# embedding initialised from the pretrained s1 and s2 embeddings) -> Swin-B levels of
# strides 4, 8, 16, 32 -> eofm.PixelRegressionHead (FPN-like fusion at stride 4, two
# sub-pixel x2 upsamplings, 13 output bands) -> L1 loss against the cloud-free S2
# reflectance clipped to [0, 1] (as the SEN12MS-CR reference loader). The MoE
# balancing loss of the encoder is added with weight 0.01 (as in the pretraining).
# Metrics: eofm.ImageRestorationMetric (MAE, SAM in degrees, SSIM and PSNR with data
# range 1, per image, averaged), predictions clipped to [0, 1].
#
# The paper gives no fine-tuning hyperparameters for this task. Choices: AdamW, lr
# 1e-4, weight decay 0.05, batch 32 (8 GPUs x 4), 40k iterations (about 10 epochs of
# the ~122k training triplets), 1500 linear warm-up iterations then cosine decay,
# drop path 0.1, full 256 x 256 px patches (Swin pads the 64 x 64 patch grid to the
# 6 x 6 windows of the pretraining), random horizontal / vertical flips of all three
# images together. Inputs are scaled as in the pretraining (S2 reflectance, S1 dB,
# not normalised).
#
# Data (configs/_base_/datasets/sen12ms_cr.py): data/sen12ms_cr/ROIs<season>_s1/,
# _s2/ and _s2_cloudy/ folders of the official archive; the val / test scenes of the
# reference loader.
# Weights: checkpoints/msgfm_swin-b.pth (eofm's msGFM pretraining; see
# configs/_base_/models/msgfm_swin-b.py).
_base_ = [
    '../_base_/datasets/sen12ms_cr.py',
    '../_base_/models/msgfm_swin-b.py',
    '../_base_/schedules/msgfm-pixreg_adamw-cosine-40k.py',
    '../_base_/default_runtime_eofm.py',
]
crop_size = (256, 256)
target = 's2'

_load = dict(
    type='eofm.LoadMultiModalTiles',
    modalities=dict(
        s2_cloudy=dict(bands=_base_.s2_bands, scale='reflectance'),
        s1=dict(bands=['VV', 'VH'], scale='none'),
        s2=dict(bands=_base_.s2_bands, scale='reflectance')),
    reference='s2_cloudy')
_pack = dict(type='eofm.PackMultiModalInputs', modalities=['s2_cloudy', 's1', 's2'])
train_pipeline = [
    _load,
    dict(
        type='eofm.AlignedRandomFlip', prob=0.5, directions=('horizontal', 'vertical')),
    _pack,
]
test_pipeline = [_load, _pack]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=4, dataset=dict(pipeline=test_pipeline))

# The cloudy S2 goes through the pretrained `s2` embedding, the SAR through `s1`.
model = dict(
    type='eofm.ImageToImageModel',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'),
    backbone=dict(
        type='eofm.MsGFMMultiSensor',
        backbone=_base_.msgfm_encoder,
        sensors=['s1', 's2'],
        input_keys=dict(s2='s2_cloudy'),
        mode='stack_channels',
        stack_name='stack'),
    head=dict(
        type='eofm.PixelRegressionHead',
        in_channels=[128, 256, 512, 1024],
        in_strides=[4, 8, 16, 32],
        out_channels=13,
        channels=256,
        loss=dict(type='mmdet.L1Loss', loss_weight=1.0)),
    target_key=target,
    target_range=(0.0, 1.0),
    aux_loss_weight=0.01)

# a list: a dict with a `metrics` key would be read as an Evaluator config
val_evaluator = [
    dict(
        type='eofm.ImageRestorationMetric',
        metrics=('mae', 'sam', 'ssim', 'psnr'),
        data_range=1.0)
]
test_evaluator = val_evaluator

# checkpoints every 4k iterations keep the best SAM
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False,
        interval=4000,
        max_keep_ckpts=2,
        save_best='restoration/sam',
        rule='less'))
