# AnySat linear probing for SICKLE paddy / non-paddy segmentation: the setup of
# anysat_linear_8xb16-100e_sickle-p10m.py (data layout: configs/_base_/datasets/
# sickle.py; weights checkpoints/AnySat.pth) with the encoder frozen: only the
# paper's linear head of 6.1K parameters (PatchLinearSegHead: LayerNorm + linear
# layer on AnySat's 'dense' output, 2 x 768 channels -> 2 classes per 10-m pixel) is
# trained.
#
# Freezing: every parameter under `backbone` gets a learning rate and weight decay of
# 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0), so AdamW leaves
# the encoder as loaded (it has no batch-norm statistics).
#
# Paper, supplementary Table B (SICKLE, mIoU): AnySat linear probing 82.0
# (fine-tuning 89.3).
_base_ = ['./anysat_linear_8xb16-100e_sickle-p10m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
