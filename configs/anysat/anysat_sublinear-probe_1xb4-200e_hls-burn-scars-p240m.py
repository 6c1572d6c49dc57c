# AnySat linear probing for HLS Burn Scars: the setup of
# anysat_sublinear_1xb4-200e_hls-burn-scars-p240m.py (data layout: configs/_base_/
# datasets/hls_burn_scars.py; weights checkpoints/AnySat.pth, see the known loading
# limitation there) with the pretrained encoder frozen.
#
# Freezing: every parameter under `backbone` gets a learning rate and weight decay of
# 0 (mmengine's paramwise_cfg custom_keys, lr_mult=0, decay_mult=0) EXCEPT the new
# `hls` projector (`backbone.projector_hls`, the longer key wins), which has no
# pretrained weights and is trained with the linear classifier: the reference's
# "LP+" setup for this dataset (gastruc/AnySat BurnScars_AnySat_LP+.yaml:
# freeze_new). A probe on a frozen random projector would not measure the
# pretrained encoder.
#
# Paper, supplementary Table B (HLS Burn Scars, mIoU): AnySat linear probing 87.7
# (fine-tuned 90.6).
_base_ = ['./anysat_sublinear_1xb4-200e_hls-burn-scars-p240m.py']

optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.0, decay_mult=0.0),
            'backbone.projector_hls': dict(lr_mult=1.0, decay_mult=1.0),
        }))
