# AnySat linear probing on TreeSatAI-TS: the setup of
# anysat_linear_3xb128-100e_treesatai-ts-p10m.py (data layout: configs/_base_/datasets/
# treesatai_ts.py; weights checkpoints/AnySat.pth) with the encoder frozen: only the
# linear layer on the mean-pooled patch tokens is trained.
#
# Freezing: the optimizer gives every parameter under `backbone` a learning rate and a
# weight decay of 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0), so
# AdamW leaves the encoder exactly as loaded; the encoder has no batch-norm statistics
# (LayerNorm / GroupNorm only), so train mode changes nothing either.
#
# Paper: AnySat reports linear probing on PASTIS-HD semantic segmentation and the
# external datasets, not on TreeSatAI-TS; the fine-tuning reference is weighted F1
# 75.1 (supplementary Table A).
_base_ = ['./anysat_linear_3xb128-100e_treesatai-ts-p10m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
