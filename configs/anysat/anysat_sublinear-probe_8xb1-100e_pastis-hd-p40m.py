# AnySat linear probing for PASTIS-HD semantic segmentation: the setup of
# anysat_sublinear_8xb1-100e_pastis-hd-p40m.py (data layout: configs/_base_/datasets/
# pastis_hd.py; weights checkpoints/AnySat.pth) with the encoder frozen: only the
# linear sub-patch classifier is trained.
#
# Freezing: every parameter under `backbone` gets a learning rate and weight decay of
# 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0), so AdamW leaves
# the encoder as loaded (it has no batch-norm statistics).
#
# Paper, supplementary Table A (PASTIS-HD semseg LP): AnySat LP (GeoPlex) mIoU 42.7.
_base_ = ['./anysat_sublinear_8xb1-100e_pastis-hd-p40m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0)}))
