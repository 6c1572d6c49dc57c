# msGFM's Swin-B encoder as pretrained by eofm (configs/msgfm/msgfm-pretrain_swin-b_
# 8xb172-800e_geopile2-192px.py): four sensors with their own patch embeddings (RGB 3,
# Sentinel-2 13 (L1C, B01-B12 with B8A and B10), SAR 2 (VV, VH), DSM 1 channels),
# Mixture-of-Experts MLPs in the odd blocks of stage 3, patch 4, window 6.
# The downstream configs wrap it in eofm.MsGFMMultiSensor (appendix C.2), which feeds
# the sensors of a task either stacked in channels through one patch embedding
# initialised from the per-sensor ones (the paper's choice for all its results) or one
# by one through the shared encoder with the feature maps concatenated.
#
# Weights: checkpoints/msgfm_swin-b.pth, a checkpoint of eofm's msGFM pretraining (no
# weights were released with the paper); the encoder is under `backbone.` in it.
# Input scaling as in the pretraining: Sentinel-2 reflectance (DN / 10000), SAR in dB
# and DSM heights as read, RGB as uint8 / 255 normalised with the ImageNet statistics.
msgfm_checkpoint = 'checkpoints/msgfm_swin-b.pth'
msgfm_sensors = dict(rgb=3, s2=13, s1=2, dsm=1)
msgfm_rgb_normalize = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
msgfm_encoder = dict(
    type='eofm.MsGFMSwin',
    arch='base',
    sensors=msgfm_sensors,
    img_size=192,
    patch_size=4,
    window_size=6,
    moe_blocks='every_other',
    moe_stages=(2, ),
    moe_cfg=dict(num_experts=8, top_k=1, capacity_factor=1.25),
    drop_path_rate=0.1,
    out_indices=(0, 1, 2, 3),
    init_cfg=dict(type='Pretrained', checkpoint=msgfm_checkpoint, prefix='backbone'))
