# AnySat linear probing on TimeSen2Crop: the setup of
# anysat_linear_1xb2048-100e_timesen2crop-p10m.py (data layout: configs/_base_/
# datasets/timesen2crop.py; weights checkpoints/AnySat.pth) with the encoder frozen:
# only the linear layer on the tile token is trained (the reference's TS2C_AnySat_LP
# experiment: freeze=True, lr 5e-5).
#
# Freezing: the optimizer gives every parameter under `backbone` a learning rate and a
# weight decay of 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0), so
# AdamW leaves the encoder exactly as loaded; the encoder has no batch-norm statistics
# (LayerNorm / GroupNorm only), so train mode changes nothing either.
#
# Paper, supplementary Table B (TimeSen2Crop, overall accuracy): AnySat linear probing
# OA 70.3 (fine-tuned 92.2). Metric: 'accuracy/top1' (= OA).
_base_ = ['./anysat_linear_1xb2048-100e_timesen2crop-p10m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
