# AnySat linear probing for BraDD-S1TS deforestation detection: the setup of
# anysat_linear_8xb256-100e_bradd-s1ts-p10m.py (ASSUMED data layout: configs/
# _base_/datasets/bradd_s1ts.py; weights checkpoints/AnySat.pth) with the encoder
# frozen: only the paper's linear head of 6.1K parameters (LayerNorm + linear layer
# on AnySat's 'dense' output, 2 x 768 channels -> 2 classes per 10-m pixel) is
# trained.
#
# Freezing: every parameter under `backbone` gets a learning rate and weight decay of
# 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0), so AdamW leaves
# the encoder as loaded.
#
# Paper, supplementary Table B (BraDD-S1TS, mIoU): AnySat linear probing 78.9
# (fine-tuned 80.9).
_base_ = ['./anysat_linear_8xb256-100e_bradd-s1ts-p10m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
